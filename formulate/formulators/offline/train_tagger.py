"""Rebuild ``tagger.json`` from the NL4Opt competition's annotated texts (needs ``python-crfsuite``).

    python -m formulate.formulators.offline.train_tagger ../shared/data/nl4opt

reads ``ner_train.txt`` and ``ner_dev.txt`` (CoNLL: ``token _ _ TAG``) and writes the weights, rounded and
sorted, so the same data gives the same file byte for byte. See ``DATA_NOTICE.md`` for the data's licence.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from formulate.formulators.offline.tagger import WEIGHTS, features

PARAMS = {"c1": 0.05, "c2": 0.01, "max_iterations": 150, "feature.possible_transitions": True}


def read_conll(path: Path) -> list[tuple[list[str], list[str]]]:
    """Documents as (words, tags) from a CoNLL file."""
    docs: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    tags: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if not line.strip() or parts[0] == "-DOCSTART-":
            if words:
                docs.append((words, tags))
            words, tags = [], []
            continue
        words.append(parts[0])
        tags.append(parts[-1])
    if words:
        docs.append((words, tags))
    return docs


def train_model(docs: list[tuple[list[str], list[str]]], path: Path, params: dict | None = None) -> None:
    """Train a CRFsuite model on ``docs`` into ``path``."""
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for words, tags in docs:
        trainer.append(features(words), tags)
    trainer.set_params(dict(PARAMS, **(params or {})))
    trainer.train(str(path))


def export(path: Path) -> dict:
    """The weights of a CRFsuite model in ``tagger.json``'s shape (rounded, sorted)."""
    import pycrfsuite

    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    info = tagger.info()
    tagger.close()
    labels = sorted({label for _, label in info.state_features} | {a for a, _ in info.transitions}
                    | {b for _, b in info.transitions})
    index = {label: i for i, label in enumerate(labels)}
    transitions = [[0.0] * len(labels) for _ in labels]
    for (a, b), w in info.transitions.items():
        transitions[index[a]][index[b]] = round(w, 5)
    state: dict[str, list[list[float]]] = {}
    for (attr, label), w in sorted(info.state_features.items()):
        if round(w, 5) != 0:
            state.setdefault(attr, []).append([index[label], round(w, 5)])
    return {"labels": labels, "transitions": transitions, "state": state}


def train(docs: list[tuple[list[str], list[str]]], params: dict | None = None) -> dict:
    """Train a CRF on ``docs`` and return its weights in ``tagger.json``'s shape."""
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "m.crfsuite"
        train_model(docs, model, params)
        return export(model)


def write(weights: dict, path: Path) -> None:
    path.write_text(json.dumps(weights, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with ner_train.txt and ner_dev.txt")
    parser.add_argument("-o", "--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    docs = read_conll(args.data / "ner_train.txt") + read_conll(args.data / "ner_dev.txt")
    write(train(docs), args.out)


if __name__ == "__main__":
    main()
