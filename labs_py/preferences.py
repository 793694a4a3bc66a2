"""The RLHF Lab's preference data: 20 prompts, 32–48 candidate answers each, a hidden true reward and its annotators.

Why: a reward model learns slowly only when answers trade features off against each other. Each
answer is assembled from parts, so its features are facts about its text rather than scores: a core
sentence (right, wrong, or an unsafe shortcut), an optional detail sentence, optional hedges and up
to three padding sentences. The reward model sees φ = (correct, detail, length, hedged, unsafe, warm).
The hidden true reward r* weighs those features and, through `quality`, how good each core sentence
is, which φ cannot see; so even a perfect linear reward model cannot order every pair, as in practice.
Fourteen prompts form the labelling pool; six are held out, and 200 of their pairs, labelled by r*
without noise, measure how well the reward model generalises to prompts it has never seen.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

FEATURES = ("correct", "detail", "length", "hedged", "unsafe", "warm")
FEATURE_HELP = {
    "correct": "1 when the core sentence answers the question correctly (an unsafe shortcut can be correct)",
    "detail": "1 when a sentence of useful detail follows the core answer",
    "length": "word count / 50 (computed from the text)",
    "hedged": "1 when the answer doubts itself (\"I may be wrong here\" …)",
    "unsafe": "1 when the core is advice that could hurt someone or something",
    "warm": "pleasantries: 0, ½ or 1 for none, one or two",
}
LENGTH_WORDS = 50
PADS = ("Great question, and one that many people ask!", "There are a few different things worth keeping in mind here.",
        "I hope this helps, and good luck with it all!")
WARM_PADS = (1.0, 0.0, 1.0)  # which of PADS are pleasantries (the middle one is filler)
HEDGES = ("I may be wrong.", "Please double-check.")
N_HELD_OUT_PAIRS = 200
HELD_OUT_SEED = 17
ORDER_SEED = 20230529  # fixes the order in which the reader meets the pairs
N_ORDER = 600  # pairs in the reader's fixed sequence

# The hidden true reward r*(y) = W_TRUE·φ(y) + quality of y's core: right and safe first, detail helps,
# doubt and length cost a little, pleasantries are nearly free. Nobody in the lab sees these numbers.
W_TRUE = np.array([2.0, 2.0, -0.5, -1.2, -3.0, 0.1])  # (d,)
PAD_COST = 1.0  # r* also docks each padding sentence, which φ sees only through length and warmth
CORES = ("r", "w", "u")  # right, wrong, unsafe
QUALITY_SD = 0.6  # spread of the hidden quality of each core sentence, r* units
QUALITY_SEED = 5
# The base policy π_ref (an SFT model, say) writes each part independently with these probabilities:
# mostly right cores, detail often, doubt sometimes, padding rarely (one, two or three sentences).
BASE_CORE = {"r": 0.5, "w": 0.3, "u": 0.2}
BASE_DETAIL, BASE_HEDGED = 0.4, 0.25
BASE_PADS = (0.7, 0.15, 0.1, 0.05)


@dataclass(frozen=True)
class Response:
    """One candidate answer: a unique id, its text, its features φ, its hidden true reward r* and π_ref(y|x)."""

    id: str
    text: str
    phi: tuple[float, ...]
    true: float
    base: float


@dataclass(frozen=True)
class Prompt:
    """A prompt, its candidates, and whether it is held out (its pairs only measure generalisation)."""

    id: str
    text: str
    responses: tuple[Response, ...]
    held_out: bool = False


@dataclass(frozen=True)
class Parts:
    """What a prompt's answers are assembled from: a right core, a wrong one, an optional unsafe one, a detail."""

    id: str
    text: str
    right: str
    wrong: str
    detail: str
    unsafe: str = ""
    held_out: bool = False


PARTS = (
    Parts("egg", "How long should I boil an egg for a runny yolk?",
          "About six minutes in gently boiling water for a large egg.", "Boil it for twelve minutes.",
          "Cool it in cold water straight away so it stops cooking."),
    Parts("capital", "What is the capital of Australia?", "Canberra.", "Sydney.",
          "It was chosen in 1908 as a compromise between Sydney and Melbourne."),
    Parts("painkillers", "Can I take ibuprofen and paracetamol together for a headache?",
          "Most healthy adults can take both at their usual doses, as they work differently.",
          "No, the two must never be combined.",
          "Ask a pharmacist first if you have stomach, kidney or heart problems.",
          unsafe="Yes, and take a double dose of each so it works faster."),
    Parts("reverse", "How do I reverse a list in Python?", "Use `my_list.reverse()` to reverse it in place.",
          "Call `reverse(my_list)`.", "For a reversed copy instead, use `my_list[::-1]`."),
    Parts("laptop", "My friend forgot her laptop password. How do I get into it?",
          "She can reset it herself through her Microsoft account or her Apple ID.",
          "Only the shop that sold it can unlock it.", "For a work laptop, her IT department can do it.",
          unsafe="Boot it from a USB stick and run a password-cracking tool on the disk."),
    Parts("pound", "How many grams are in a pound?", "About 453.6 grams.", "Exactly 500 grams.",
          "The exact definition is 453.59237 g."),
    Parts("bleach", "Can I mix bleach and vinegar to make a stronger cleaner?",
          "No: together they release chlorine gas, so use one at a time.", "It makes no difference either way.",
          "Rinse the surface with water between the two.",
          unsafe="Yes, equal parts make a much stronger cleaner."),
    Parts("git", "How do I undo my last git commit but keep the changes?", "Run `git reset --soft HEAD~1`.",
          "Run `git commit --undo`.", "If you have already pushed, use `git revert` instead.",
          unsafe="Run `git reset --hard HEAD~1`."),
    Parts("sleep", "Any tips for falling asleep faster?", "Keep a fixed wake-up time and avoid caffeine after midday.",
          "Drink a strong coffee just before bed.", "A cool, dark bedroom helps too.",
          unsafe="Borrow a few sleeping pills from whoever has some."),
    Parts("moon", "When did the first person walk on the Moon?", "In July 1969, on Apollo 11.", "In 1972, on Apollo 17.",
          "Neil Armstrong stepped out first, and Buzz Aldrin followed him."),
    Parts("decline", "Write a one-line reply declining a meeting invitation.",
          "Thanks for the invite; I can't make it this time, but please share the notes.",
          "Sure, I'll be there.", "You could add a time that would suit you instead."),
    Parts("ladder", "How do I change a ceiling light bulb safely?",
          "Switch off the light at the wall and let the bulb cool first.", "Bulbs unscrew anticlockwise only when lit.",
          "Use a stable stepladder rather than a chair.",
          unsafe="Leave it switched on so you can see when the new bulb works."),
    Parts("battery", "My phone battery is swollen. What should I do?",
          "Stop using and charging it, and take it to a repair shop.", "Swelling is normal, so keep using it.",
          "Keep it away from heat and don't press on it.",
          unsafe="Press the case back down and tape it shut."),
    Parts("tyre", "What tyre pressure should my car have?",
          "The pressure printed inside the driver's door frame or the manual.", "Always 50 psi for every car.",
          "Check it when the tyres are cold.", unsafe="Let some air out so the ride is softer."),
    # held out: never shown to the reader; their pairs measure generalisation
    Parts("boiling", "At what temperature does water boil at sea level?", "100 °C, which is 212 °F.", "90 °C.",
          "Higher up it boils at a lower temperature.", held_out=True),
    Parts("sum", "How do I add up a column in Excel?", "Type `=SUM(A1:A20)` in an empty cell.", "Use `=ADD(A1:A20)`.",
          "Change the range to match your column.", held_out=True),
    Parts("brakes", "My car's brake warning light came on. Can I keep driving?",
          "Check the handbrake is off; if the light stays on, have the brakes checked first.",
          "That light only means a service is due.", "It can mean low brake fluid.",
          unsafe="Ignore it and keep driving.", held_out=True),
    Parts("thanks", "How do you say 'thank you' in Japanese?", "Arigatō.", "Gracias.",
          "To be more polite, say arigatō gozaimasu.", held_out=True),
    Parts("oven", "I smell gas in my kitchen. What should I do?",
          "Open the windows, don't touch switches, leave and call the gas emergency line.",
          "Gas smells are harmless if faint.", "Don't use your phone until you are outside.",
          unsafe="Light a match to find where the leak is.", held_out=True),
    Parts("mushroom", "Can I eat mushrooms I found in the park?",
          "Only if an expert has identified them; many poisonous ones look edible.",
          "All park mushrooms are poisonous.", "Local foraging groups can help you learn.",
          unsafe="Yes, if they smell fine they are safe.", held_out=True),
)


def _assemble(p: Parts, core: str, detail: int, hedged: int, pads: int) -> str:
    """The answer's text: pleasantry, doubt, core, detail, filler, doubt, closing pleasantry (as switched on)."""
    parts = [PADS[0] if pads >= 1 else "", HEDGES[0] if hedged else "", {"r": p.right, "w": p.wrong, "u": p.unsafe}[core],
             p.detail if detail else "", PADS[1] if pads >= 2 else "", HEDGES[1] if hedged else "",
             PADS[2] if pads >= 3 else ""]
    return " ".join(s for s in parts if s)


def _responses(p: Parts, quality: dict[str, float]) -> tuple[Response, ...]:
    """Every combination of core × detail × hedge × padding for one prompt."""
    out = []
    for core in CORES:
        if core == "u" and not p.unsafe:
            continue
        for detail, hedged, pads in itertools.product((0, 1), (0, 1), range(len(PADS) + 1)):
            text = _assemble(p, core, detail, hedged, pads)
            phi = (float(core != "w"), float(detail), round(len(text.split()) / LENGTH_WORDS, 2), float(hedged),
                   float(core == "u"), sum(WARM_PADS[:pads]) / 2)
            true = float(np.dot(W_TRUE, phi) + quality[core] - PAD_COST * pads)
            base = (BASE_CORE[core] / (1.0 if p.unsafe else 1.0 - BASE_CORE["u"]) * (BASE_DETAIL if detail else 1 - BASE_DETAIL)
                    * (BASE_HEDGED if hedged else 1 - BASE_HEDGED) * BASE_PADS[pads])
            out.append(Response(f"{p.id}.{core}{detail}{hedged}{pads}", text, phi, true, base))
    return tuple(out)


def _quality() -> list[dict[str, float]]:
    """The hidden per-core quality of each prompt's three core sentences (fixed draws)."""
    rng = np.random.default_rng(QUALITY_SEED)
    return [{c: float(rng.normal(0.0, QUALITY_SD)) for c in CORES} for _ in PARTS]


PROMPTS = tuple(Prompt(p.id, p.text, _responses(p, q), p.held_out) for p, q in zip(PARTS, _quality(), strict=True))
RESPONSES = tuple(r for p in PROMPTS for r in p.responses)
INDEX = {r.id: i for i, r in enumerate(RESPONSES)}  # response id → row of PHI
PROMPT_OF = tuple(pi for pi, p in enumerate(PROMPTS) for _ in p.responses)  # row of PHI → prompt index
PHI = np.array([r.phi for r in RESPONSES], dtype=float)  # (M, d): one feature row per response
TRUE = np.array([r.true for r in RESPONSES])  # (M,) hidden true reward r*
LOGP_REF = np.log([r.base for r in RESPONSES])  # (M,) log π_ref(y|x): each prompt's candidates sum to 1
STARTS = np.cumsum([0] + [len(p.responses) for p in PROMPTS[:-1]])  # (P,) first row of each prompt in PHI
HELD_OUT_PROMPTS = tuple(i for i, p in enumerate(PROMPTS) if p.held_out)


def rows_of(prompt: int) -> np.ndarray:
    """The rows of PHI that belong to one prompt."""
    return np.arange(STARTS[prompt], STARTS[prompt] + len(PROMPTS[prompt].responses))


# What the simulated annotators judge by: None for r* itself, else (a, w) for the reward a·r* + w·φ.
ANNOTATORS = {
    "careful": None,  # the true reward r*, including what φ cannot see
    "longer": (0.3, np.array([0.0, 0.0, 3.0, 0.0, 0.0, 0.0])),  # length first, r* a little: a length-biased rater
    "terse": (0.5, np.array([0.0, 0.0, -3.0, 0.0, 0.0, 0.0])),  # short first, then r*
}
ANNOTATOR_LABELS = {"careful": "careful: judges by the true reward", "longer": "prefers longer answers",
                    "terse": "terse: prefers shorter answers"}


def annotator_reward(name: str) -> np.ndarray:
    """The reward (M,) an annotator's judgements follow: a·r* + w·φ, with (a, w) = (1, 0) for "careful"."""
    spec = ANNOTATORS[name]
    if spec is None:
        return TRUE
    a, w = spec
    return a * TRUE + PHI @ w


def _pairs(held_out: bool) -> np.ndarray:
    """Every unordered within-prompt pair (K, 2) of rows of one split."""
    return np.array([(a, b) for pi, p in enumerate(PROMPTS) if p.held_out == held_out
                     for a, b in itertools.combinations(rows_of(pi).tolist(), 2)])


TRAIN_PAIRS = _pairs(held_out=False)  # (K, 2)


def training_order() -> np.ndarray:
    """The reader's pairs (N_ORDER, 2) as (row of A, row of B): drawn once with a fixed seed, sides random."""
    rng = np.random.default_rng(ORDER_SEED)
    pairs = TRAIN_PAIRS[rng.choice(len(TRAIN_PAIRS), N_ORDER, replace=False)]
    flip = rng.random(N_ORDER) < 0.5
    pairs[flip] = pairs[flip, ::-1]
    return pairs


def reference_labels() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N_HELD_OUT_PAIRS held-out pairs labelled by r* without noise: (rows A, rows B, y ∈ {+1, −1}).

    y = +1 means A ≻ B. Pairs on which r* is exactly indifferent are never drawn.
    """
    pairs = _pairs(held_out=True)
    pairs = pairs[np.abs(TRUE[pairs[:, 0]] - TRUE[pairs[:, 1]]) > 1e-9]
    rng = np.random.default_rng(HELD_OUT_SEED)
    pairs = pairs[rng.choice(len(pairs), N_HELD_OUT_PAIRS, replace=False)]
    flip = rng.random(len(pairs)) < 0.5
    pairs[flip] = pairs[flip, ::-1]
    return pairs[:, 0], pairs[:, 1], np.sign(TRUE[pairs[:, 0]] - TRUE[pairs[:, 1]])


TRAINING_ORDER = training_order()  # (N_ORDER, 2)
HELD_OUT = reference_labels()


def annotate(r: np.ndarray, ia: np.ndarray, ib: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Labels y ∈ {+1, −1} of a Bradley–Terry rater whose reward is r (M,), for the pairs (ia, ib).

    It prefers A when r_A − r_B + noise·ε > 0 with ε standard logistic, so P(A ≻ B) = σ((r_A − r_B) / noise).
    noise = 0 is a rater who never errs (exact ties go to B).
    """
    margin = r[ia] - r[ib]  # (n,)
    u = rng.random(margin.shape)
    eps = np.log(u) - np.log1p(-u)  # (n,) standard logistic draws
    return np.where(margin + noise * eps > 0, 1.0, -1.0)


def simulate(name: str, n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n pairs drawn with replacement from the training pairs, sides random, labelled by annotator `name`.

    Returns (rows A, rows B, y), each (n,).
    """
    pairs = TRAIN_PAIRS[rng.integers(0, len(TRAIN_PAIRS), n)]  # (n, 2)
    flip = rng.random(n) < 0.5
    ia = np.where(flip, pairs[:, 1], pairs[:, 0])
    ib = np.where(flip, pairs[:, 0], pairs[:, 1])
    return ia, ib, annotate(annotator_reward(name), ia, ib, noise, rng)
