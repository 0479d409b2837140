#!/usr/bin/python3
"""A tiny SentencePiece BPE tokenizer (byte fallback, Llama's settings) for the tokenizer tests.

Writes tests/RelpSae.Tests/TestData/sp-tiny/:
  tokenizer.model  trained here by the sentencepiece library (python3-sentencepiece) on a few sentences
  tokenizer.json   the same model in Hugging Face's format, converted as transformers' LlamaConverter does
                   (vocab by id, merges from the SentencePiece scores, Prepend + Replace normaliser, byte fallback)
  expected.json    sentencepiece's own encodings of a few texts (ASCII, repeated spaces, accents and an emoji
                   outside the vocabulary, which fall back to bytes)

Run: /usr/bin/python3 scripts/tokenizer_reference.py   (from the repository root)
"""
import io
import json
import os

import sentencepiece as spm

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "RelpSae.Tests", "TestData", "sp-tiny")

CORPUS = """Once upon a time there was a little girl named Lily. She liked to play in the park with her dog.
One day the dog found a big red ball under a tree. Lily and the dog played with the ball all day.
The sun was warm and the sky was blue. They were happy and tired when they went home for dinner.
Tom had a small boat. He took the boat to the pond and watched it float on the water.
A bird sat on the boat and sang a song. Tom laughed and the bird flew away into the trees.""".split("\n") * 20

TEXTS = ["Once upon a time", "Lily and the dog played", "  two  spaces", "café naïve", "the bird 🙂 sang", "x"]


def main():
    os.makedirs(OUT, exist_ok=True)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS), model_writer=model, model_type="bpe", vocab_size=420,
                                   byte_fallback=True, character_coverage=1.0, normalization_rule_name="identity",
                                   remove_extra_whitespaces=False, add_dummy_prefix=True, bos_id=1, eos_id=2, unk_id=0,
                                   minloglevel=2)
    with open(os.path.join(OUT, "tokenizer.model"), "wb") as f:
        f.write(model.getvalue())
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())

    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    scores = sorted(((sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())), key=lambda p: -p[1])
    merges = []
    for merge, score in scores:   # transformers' SentencePieceExtractor
        local = [(merge[:k], merge[k:], score) for k in range(1, len(merge)) if merge[:k] in vocab and merge[k:] in vocab]
        merges.extend(sorted(local, key=lambda m: (vocab[m[0]], vocab[m[1]])))
    merges.sort(key=lambda m: -m[2])
    special = [{"id": i, "content": sp.id_to_piece(i), "special": True} for i in (0, 1, 2)]
    tokenizer = {
        "version": "1.0", "added_tokens": special,
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                           {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": None,
        "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                                                     {"type": "ByteFallback"}, {"type": "Fuse"},
                                                     {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "fuse_unk": True, "byte_fallback": True,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b, _ in merges]},
    }
    with open(os.path.join(OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    expected = [{"text": t, "ids": sp.encode(t), "decoded": sp.decode(sp.encode(t))} for t in TEXTS]
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
