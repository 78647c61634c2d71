"""Dict- and str-heavy text processing on generated text.

Builds a pseudo-random corpus from a small syllable alphabet (deterministic
LCG, no input files), then tokenises it, normalises words, counts words and
bigrams in dicts, builds a per-letter index, and reports the top entries.

Written for libscalenecore's overhead benchmark.  Prints on stdout
BENCH_WORK_SECONDS <wall seconds spent in the workload> and
BENCH_WORK_CPU_SECONDS <process CPU seconds spent in it>.
"""

import sys
import time

LINES = 64_000
PASSES = 1

SYLLABLES = ["ka", "lo", "mi", "nu", "ter", "sa", "vo", "ri", "den", "qua",
             "ze", "po", "lin", "ur", "ish", "ba", "co", "fe", "ga", "ho"]
PUNCT = [",", ".", ";", "!", "?", ""]


class Lcg:
    def __init__(self, seed):
        self.state = seed

    def next(self, bound):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) \
            & 0xFFFFFFFFFFFFFFFF
        return (self.state >> 33) % bound


def make_corpus(lines, seed=12345):
    rng = Lcg(seed)
    # A vocabulary with a skewed (Zipf-like) choice of words.
    vocab = []
    for i in range(900):
        n = 2 + rng.next(3)
        word = "".join(SYLLABLES[rng.next(len(SYLLABLES))] for _ in range(n))
        vocab.append(word)
    out = []
    for _ in range(lines):
        words = []
        for _ in range(6 + rng.next(10)):
            r = rng.next(900)
            w = vocab[(r * r) // 900]
            if rng.next(7) == 0:
                w = w.capitalize()
            words.append(w + PUNCT[rng.next(len(PUNCT) * 3) % len(PUNCT)])
        out.append(" ".join(words))
    return "\n".join(out)


def tokenize(text):
    for line in text.splitlines():
        for raw in line.split():
            word = raw.strip(",.;!?").lower()
            if word:
                yield word


def analyse(text):
    counts = {}
    bigrams = {}
    by_letter = {}
    lengths = {}
    prev = None
    for word in tokenize(text):
        counts[word] = counts.get(word, 0) + 1
        if prev is not None:
            key = prev + " " + word
            bigrams[key] = bigrams.get(key, 0) + 1
        prev = word
        first = word[0]
        bucket = by_letter.get(first)
        if bucket is None:
            bucket = by_letter[first] = set()
        bucket.add(word)
        n = len(word)
        lengths[n] = lengths.get(n, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    top_bi = sorted(bigrams.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    letters = {k: len(v) for k, v in sorted(by_letter.items())}
    return top, top_bi, letters, lengths, len(counts), len(bigrams)


def main():
    c0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(PASSES):
        text = make_corpus(LINES)
        top, top_bi, letters, lengths, nwords, nbigrams = analyse(text)
    t1 = time.perf_counter()
    c1 = time.process_time()
    print(f"wordcount: {len(text)} chars, {nwords} words, {nbigrams} bigrams, "
          f"top {top[0]}, top bigram {top_bi[0]}", file=sys.stderr)
    print(f"BENCH_WORK_SECONDS {t1 - t0:.6f}")
    print(f"BENCH_WORK_CPU_SECONDS {c1 - c0:.6f}")


if __name__ == "__main__":
    main()
