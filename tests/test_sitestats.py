"""Word counting for reading times: prose counts; code, drawings and labs do not."""

from sitestats import count_words


def test_counts_prose_and_skips_code_svg_and_labs():
    html = (
        "<h1>Low rank</h1><p>LoRA isn't magic: it's W&#8320; + BA.</p>"
        "<pre><code>for i in range(10): print(i)</code></pre>"
        '<svg viewBox="0 0 1 1"><text>not counted</text></svg>'
        '<div class="lab" data-lab="x"><p>lab words</p><div class="sr-only lab-live" aria-live="polite">x</div></div>'
        "<p>state-of-the-art 4.5 bits</p>"
    )
    # Low rank LoRA isn't magic it's W (the subscript ₀ is not a letter) BA state-of-the-art 4.5 bits
    assert count_words(html) == 11
