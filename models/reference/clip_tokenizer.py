"""Reference for server/encoders/clip-tokenizer.ts: CLIP's SimpleTokenizer (openai/CLIP,
simple_tokenizer.py) with its ftfy cleaning left out, plus a small BPE learner that makes a
merges file in CLIP's format from a corpus (the real one is not obtainable here).

    clip_tokenizer.py learn CORPUS MERGES_OUT [--merges 300]
    clip_tokenizer.py encode MERGES   < lines   → one JSON id list per line
"""

import collections
import json
import re
import sys

# CLIP's pattern uses \\p{L} / \\p{N} (the `regex` module); questions are ASCII, where these agree.
PATTERN = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-zA-Z]+|[0-9]|[^\sa-zA-Z0-9]+""", re.IGNORECASE)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word):
    return {(word[i], word[i + 1]) for i in range(len(word) - 1)}


class SimpleTokenizer:
    def __init__(self, merges_path):
        with open(merges_path, encoding="utf-8") as f:
            merges = [tuple(line.split()) for line in f.read().split("\n")[1:] if line.strip()]
        self.byte_encoder = bytes_to_unicode()
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))

    def bpe(self, token):
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        return " ".join(word)

    def encode(self, text):
        text = re.sub(r"\s+", " ", text).strip().lower()
        ids = [self.encoder["<|startoftext|>"]]
        for token in re.findall(PATTERN, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return ids + [self.encoder["<|endoftext|>"]]


def learn(corpus_path, out_path, count):
    """Greedy BPE over the corpus's words (with </w> on each word's last symbol)."""
    byte_encoder = bytes_to_unicode()
    with open(corpus_path, encoding="utf-8") as f:
        words = collections.Counter(
            "".join(byte_encoder[b] for b in w.encode("utf-8")) for w in re.findall(PATTERN, f.read().lower())
        )
    vocab = {tuple(w[:-1]) + (w[-1] + "</w>",): n for w, n in words.items()}
    merges = []
    for _ in range(count):
        pairs = collections.Counter()
        for word, n in vocab.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += n
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        merged = {}
        for word, n in vocab.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + n
        vocab = merged
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("#version: 0.2 (learned by models/reference/clip_tokenizer.py)\n")
        f.write("\n".join(f"{a} {b}" for a, b in merges) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "learn":
        count = int(sys.argv[sys.argv.index("--merges") + 1]) if "--merges" in sys.argv else 300
        learn(sys.argv[2], sys.argv[3], count)
    elif sys.argv[1] == "encode":
        tokenizer = SimpleTokenizer(sys.argv[2])
        for line in sys.stdin.read().split("\n"):
            if line:
                print(json.dumps(tokenizer.encode(line)))
