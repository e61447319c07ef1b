#!/usr/bin/env python3
"""Writes the accuracy-scorer fixtures in crates/accuracy/tests/fixtures/.

The fixtures are small, hand-written and deliberately varied (punctuation,
casing, numbers, Unicode, empty strings); the accuracy logs are written in
LoadGen's exact format (upper-case hex of little-endian response bytes).
Re-run after editing a case; the files are committed.

    python3 tests/accuracy/make_fixtures.py
"""

import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "crates", "accuracy", "tests", "fixtures")


def write(name, text):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def write_log(name, records):
    """records: (qsl_idx, bytes[, token_count])."""
    lines = []
    for seq, r in enumerate(records):
        line = '{ "seq_id" : %d, "qsl_idx" : %d, "data" : "%s"' % (seq, r[0], r[1].hex().upper())
        if len(r) > 2:
            line += ', "token_count" : %d' % r[2]
        lines.append(line + " }")
    write(name, "[\n" + ",\n".join(lines) + ("\n" if lines else "") + "]\n")


def jsonl(name, items):
    write(name, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items))


# ---------------------------------------------------------------- top-1
LABELS = [65, 970, 230, 809, 516, 57, 334, 415, 674, 332, 109, 286, 370, 757, 595, 147, 108, 23, 478, 517]
write("top1/val_map.txt", "".join("ILSVRC2012_val_%08d.JPEG %d\n" % (i + 1, l) for i, l in enumerate(LABELS)))
preds = {0: 65, 1: 970, 2: 231, 3: 809, 5: 57, 6: 0, 7: 415, 9: 332, 11: 286, 12: 371, 13: 757, 17: 23, 19: 517}
order = [3, 0, 19, 2, 7, 12, 1, 5, 3, 9, 11, 6, 13, 17, 0]  # repeats of 3 and 0 count once
write_log("top1/int32.json", [(q, struct.pack("<i", preds[q] if q not in (3,) or i < 8 else 1)) for i, q in enumerate(order)])
write_log("top1/float32.json", [(q, struct.pack("<ff", preds[q] + 0.75, -1.0)) for q in order])

# ---------------------------------------------------------------- SQuAD
SQUAD = {
    "version": "1.1",
    "data": [
        {"title": "Beatles", "paragraphs": [{"context": "...", "qas": [
            {"id": "q0", "question": "Who?", "answers": [{"text": "The Beatles", "answer_start": 0}, {"text": "Beatles", "answer_start": 4}]},
            {"id": "q1", "question": "When?", "answers": [{"text": "in 1960", "answer_start": 0}]},
            {"id": "q2", "question": "Where?", "answers": [{"text": "Liverpool, England", "answer_start": 0}, {"text": "Liverpool", "answer_start": 0}]},
        ]}, {"context": "...", "qas": [
            {"id": "q3", "question": "What?", "answers": [{"text": "an album called \u201cAbbey Road\u201d", "answer_start": 0}]},
            {"id": "q4", "question": "How many?", "answers": [{"text": "4", "answer_start": 0}, {"text": "four", "answer_start": 0}]},
        ]}]},
        {"title": "Misc", "paragraphs": [{"context": "...", "qas": [
            {"id": "q5", "question": "Who?", "answers": [{"text": "Ren\u00e9 Descartes", "answer_start": 0}]},
            {"id": "q6", "question": "Which?", "answers": [{"text": "the the the", "answer_start": 0}]},
            {"id": "q7", "question": "What?", "answers": [{"text": "New York-based firm", "answer_start": 0}]},
            {"id": "q8", "question": "Unanswered?", "answers": [{"text": "nothing", "answer_start": 0}]},
            {"id": "q9", "question": "Case?", "answers": [{"text": "\u0130stanbul \u03a3\u039f\u03a6\u0399\u0391", "answer_start": 0}]},
            {"id": "q10", "question": "Repeat?", "answers": [{"text": "yes yes no", "answer_start": 0}]},
        ]}]},
    ],
}
write("squad/dev-v1.1.json", json.dumps(SQUAD, ensure_ascii=False, indent=1) + "\n")
squad_preds = [
    (0, "Beatles."), (1, "1960"), (2, "liverpool england!!"), (3, "Abbey Road"), (4, "four (4)"),
    (5, "rene descartes"), (6, ""), (7, "a New-York based firm"), (9, "istanbul σοφια"), (10, "yes no no yes"),
    (0, "wrong duplicate"),
]
write_log("squad/answers.json", [(q, t.encode()) for q, t in squad_preds])

# ---------------------------------------------------------------- ROUGE
ROUGE = [
    ("The quick brown fox jumps over the lazy dog. It was very quick!",
     "A quick brown dog jumps over the lazy fox. It was quick."),
    ("Dr. Smith went to Washington on Jan. 5th. He met the U.S. President at 3 p.m. and they talked.",
     "Smith, a doctor, traveled to Washington in January. He met the president."),
    ("", "Nothing was predicted here."),
    ("Summaries are generalizations; generalizing summarizes. Running runners ran.",
     ""),
    ("Numbers: 3.14, 2,000 and 1990s. Version 2.0 was released!", "Version 2.0 was released in the 1990s; it cost 2,000 dollars."),
    ("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u2014 na\u00efve fa\u00e7ade. \u00dcBER alles.", "Cafe creme brulee, naive facade. Uber alles."),
    ("\u201cStop,\u201d she said. \u201cGo!\u201d he replied. (They left.) Then... silence?",
     "She said stop and he said go. They left in silence."),
    ("\u65e5\u672c\u8a9e\u306e\u6587\u3002 English follows here. \u4e2d\u6587\uff01 Done.", "English follows here. Done."),
    ("Identical text. Identical text.", "Identical text. Identical text."),
    ("the the the the cat", "the cat the cat the"),
    ("Mr. and Mrs. J. R. Tolkien live at 5 St. James St. in London. They like tea.",
     "The Tolkiens live in London at St. James Street. They like coffee and tea."),
    ("   Leading and trailing whitespace.   \n\n  Second paragraph here.\n", "Leading whitespace. Second paragraph."),
    ("Agreed, conditionally: hopefulness, callousness and sensibility are relational.",
     "They agreed conditionally on hopeful, callous, sensible relations."),
]
jsonl("rouge/references.jsonl", [{"reference": r} for _, r in ROUGE])
# Sample 12 is asked twice; the first response counts.
rouge_records = [(i, p.encode(), 7 + 3 * i) for i, (p, _) in enumerate(ROUGE)] + [(12, b"ignored duplicate", 99)]
write_log("rouge/texts.json", rouge_records)

# ---------------------------------------------------------------- WER
WER = [
    ("he hoped there would be stew for dinner turnips and carrots", "He hoped there would be stew for dinner, turnips and carrots."),
    ("every one of them came to the colour party", "Everyone of them came to the color party!"),
    ("it cost twenty five dollars and fifty cents", "It cost $25.50."),
    ("mister smith's car was built in nineteen eighty four", "Mr. Smith's car was built in 1984"),
    ("i can't believe it's not butter", "I cannot believe it is not butter"),
    ("the quick brown fox", "the quick brown dog jumped"),
    ("hmm uh we'll see about that", "We will see about that, um."),
    ("she finished first in the race twice", "She finished 1st in the race 2 times"),
    ("the ratio is one point five to one", "The ratio is 1.5:1"),
    ("no overlap at all", "completely different words here"),
    ("ten percent of a hundred is ten", "10% of 100 is 10"),
]
WER.insert(4, ("", "an insertion only"))  # an empty reference (not last: text files drop a final empty line)
write("wer/transcripts.txt", "".join(r + "\n" for r, _ in WER))
write_log("wer/texts.json", [(i, h.encode()) for i, (_, h) in enumerate(WER)] + [(5, b"the quick brown fox")])
LABELS_42 = [" "] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["'"] + [str(d) for d in range(10)] + ["$", "%", "+", "-"]
idx = {c: i for i, c in enumerate(LABELS_42)}
def to_ids(s):
    return [idx[c] for c in s.lower() if c in idx]
write_log("wer/labels_int64.json", [(i, struct.pack("<%dq" % len(to_ids(h)), *to_ids(h))) for i, (_, h) in enumerate(WER)])

# ---------------------------------------------------------------- whisper normaliser inputs
NORMALIZER = [
    "one oh one", "twenty first", "nineteen eighty four", "the 1960s", "two thousand and twenty", "a hundred",
    "one million two hundred thousand", "three point one four", "point five", "$5.50", "five dollars and twenty cents",
    "twenty five percent", "five per cent", "minus three", "plus ten", "minus the", "double zero seven", "triple five",
    "first second third fourth fifth", "ninth nineth", "twelve hundred", "1,000,000", "3.14 million", "1.5 billion",
    "zero", "oh", "0 zero", "007", "2.0", "\u0661\u0662\u0663", "\u00bd", "\uff11\uff12", "sixes and sevens",
    "the twenties", "hundredth", "\u00a33 and 50p", "\u20ac0.05", "$0.5", "it's 5 o'clock",
    "I'm, you're, they've, we'll, she'd, can't, won't, ain't, y'all, ma'am", "Mr Mrs Dr St Prof Capt Gen Sen Rep Jr Sr Esq",
    "colour honour centre theatre organise", "hmm mm uh um mhm mmm hmmm", "[laughter] (inaudible) <unk> text",
    "Na\u00efve caf\u00e9 r\u00e9sum\u00e9 \u00c6r\u00f8 Stra\u00dfe \u0141\u00f3d\u017a \u00feorn \u0153uvre", "emoji \U0001F600 test",
    "tab\tand\nnewline", "", "   ", "1st 2nd 3rd 4th", "5 th", "a1b2", "100%", "50 %", "3/4", "x.y.z", "end.", "...",
    "ip 192.168.0.1", "version 2.5.1", "one and a half", "and a half", "two and a half million", "seventy-five",
    "twenty-one twenty", "nine hundred ninety nine thousand", "one two three four five six seven eight nine",
    "eleven twelve", "twenty twelve", "nineteen hundred", "first of all, second...", "positive negative", "pounds",
    "one hundred and one dalmatians", "the one", "ones and twos", "1s", "it's been, he'd gone, she's got",
    "double double", "point", "thirty thirty three", "five hundredths", "two thousandth", "oh oh seven",
    "one point", "$ 20", "20 $", "\u00a2 5", "3 cents", "the year two thousand", "\u00c9COLE \u0130stanbul \u039f\u0394\u039f\u03a3",
    "half", "a third", "don't do that", "he said \u201chello\u201d", "10,000 10,00 1,2,3", "4.", ".5", "0.5 million",
    "zero point zero five", "one hundred twenty three", "one twenty three", "twenty three hundred", "ten thousand and one",
]
jsonl("normalizer.jsonl", NORMALIZER)

# ---------------------------------------------------------------- Punkt sentences
SENTENCES = [
    "Mr. Smith went to Washington. He arrived at 5 p.m. on Monday.",
    "The U.S.A. is large. It has 50 states.",
    "Wait... what? No!",
    "\"Stop.\" she said. \"Go!\"",
    "(This is one.) And two.",
    "It cost $3.50. That was cheap.",
    "1. First item. 2. Second item.",
    "J. R. R. Tolkien wrote it. J. smith did not.",
    "See p. 5 for details. Then continue.",
    "\u00c9l lleg\u00f3. \u00bfQu\u00e9 pas\u00f3? \u00c7a va.",
    "\u65e5\u672c\u8a9e\u306e\u6587\u3002English follows. \u4e2d\u6587\uff01",
    "e.g. this is an example. i.e. another one.",
    "First paragraph ends here.\n\nSecond paragraph starts. And ends.",
    "Tabs\there. And\tthere.  ",
    "End with no punctuation",
    "",
    "...",
    "?!",
    "Hello!!! World??? Yes.",
    "Smith et al. found this. It works.",
    "The temp. was 5\u00b0C. Next sentence.",
    "He said 'yes.' Then left.",
    "--dash start. Next--yes.",
    "a.b.c. d e f. G h.",
    "Dr. Who? Yes. Dr. no.",
    "St. Louis is a city. It is big.",
    "\u2018Quote.\u2019 Next.",
    "\u00abBonjour.\u00bb Suite.",
    "Version 2.0. Released.",
    "Call at 3 p.m. Tomorrow is fine.",
    "NO. WAY. REALLY.",
    "x\u2028y. z",
    "odd\u001c. sep",
    "Inc. reported gains. Co. reported losses.",
    "It was 5 a.m. The sun rose.",
    "I. II. III. Roman numerals.",
    "The No. 1 hit. No. 2 followed.",
    "She won 1st. prize. He won 2nd.",
    "Ellipsis. . . and more. Then stop.",
    "Sentence one.Sentence two has no space. Three.",
    "Quote at end.\" Next one.",
    "Brackets [like this.] And more.",
    "Question? \"Answer.\" Done.",
    "Line one.\nLine two.\nLine three",
    "  \n  ",
    "a. b. c.",
    "Jan. 5 is a date. Feb. is a month.",
    "The U.S. Army. The U.N. meeting.",
]
jsonl("sentences.jsonl", SENTENCES)

# ---------------------------------------------------------------- Porter stemmer
STEMS = """caresses ponies ties caress cats feed agreed disabled matting mating meeting milling messing meetings
happy sky relational conditional rational valenci hesitanci digitizer conformabli radicalli differentli vileli
analogousli vietnamization predication operator feudalism decisiveness hopefulness callousness formaliti
sensitiviti sensibiliti triplicate formative formalize electriciti electrical hopeful goodness revival allowance
inference airliner gyroscopic adjustable defensible irritant replacement adjustment dependent adoption homologou
communism activate angulariti homologous effective bowdlerize probate rate cease controll roll generalizations
oscillators dying lying tying news innings outings cannings howe proceed exceed succeed skies spied tried flies
fully logically logi geology archaeology yyyy yay toy syzygy by y abc ab a enjoy enjoyment died tied cried dies
lies RUNNING Running 42nd 1990s abc123ing hoping hopping sized troubled falling hissing fizzed failing filing
conflated plastered bled motoring sing sensational traditional fulli hopefulli beautifulli analogi apologi
radically abominable rationalization nationalism organization specialization emotional optionally dually
feasibility responsibility possibilities activities quality equality caf\u00e9 na\u00efve stra\u00dfe
ying yies eed bleed speed deed ied iing ing ed ss sss s is was has does goes uses using used bus buses gas""".split()
write("stems.txt", "".join(w + "\n" for w in STEMS))

# ---------------------------------------------------------------- exact match
GSM8K = [
    ("Janet has 16 eggs. She eats 3 and bakes 4. 16 - 3 - 4 = 9. 9 * 2 = 18. The answer is 18.", "18"),
    ("The answer is 1,000 dollars.\nQ: What is 5 + 5?\nA: The answer is 10.", "1000"),
    ("First 3.5 then -2, so the total is -2.5", "-2.5"),
    ("We compute 12 and 13. The answer is 13 (not 12). Also 99.", "13"),
    ("No number here at all.", "7"),
    ("The answer is seven.", "7"),
    ("It is \u0661\u0668 apples", "18"),
    ("The answer is 3", "3.0"),
    ("total: 5,600", "5600"),
    ("answer: .5", "0.5"),
    ("The answer is 42.\nQ: next", "forty-two"),
    ("The answer is 1,2,3", "123"),
    ("", "0"),
]
jsonl("gsm8k/answers.jsonl", [{"answer": a} for _, a in GSM8K])
write_log("gsm8k/texts.json", [(i, t.encode(), 20 + i) for i, (t, _) in enumerate(GSM8K)] + [(0, b"The answer is 0", 5)])

AIME = [
    ("So the result is \\boxed{204}.", "204"),
    ("\\boxed{ 17 } but wait, \\boxed{19}", "19"),
    ("Answer: 033", "33"),
    ("ANSWER: 12.5", "12"),
    ("Answer: 1000", "1000"),
    ("answer:\n  77", "77"),
    ("Answer: 5abc", "5"),
    ("Final: \\boxed{x+1}. Answer: 8", "8"),
    ("no answer", "1"),
    ("\\boxed{\u0665}", "5"),
]
jsonl("aime/answers.jsonl", [{"answer": a} for _, a in AIME])
write_log("aime/texts.json", [(i, t.encode()) for i, (t, _) in enumerate(AIME)])

print("fixtures written to", os.path.normpath(OUT))
