"""The benchmark registry: every pinned public source, by name (from shared/data/sources.md).

Single files are fetched from ``https://raw.githubusercontent.com/<repo>/<commit>/<path>`` and checked
against their sha256. Directory releases (ORThought) keep one folder per problem; raw URLs cannot list
a folder, so the registry carries the folder names at the pinned commit (``orthought_folders.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from formulate.errors import DatasetError, did_you_mean

RAW_BASE = "https://raw.githubusercontent.com"

OPTMATH = ("optsuite/OptMATH", "f15bbc4477c70db85ad148df8bcc1b780bca0f8c")
SIRL = ("Cardinal-Operations/SIRL", "8e85194b8f251ec229cc310c2c6e8794ead85682")
MAMO = ("FreedomIntelligence/Mamo", "2c91069dee5c1e4db4b899eb176ec987d0251bb3")
LLMOPT = ("antgroup/LLMOPT", "1492dd33e39ea13f1afe32a0adc13d4217334195")
RESOCRATIC = ("yangzhch6/ReSocratic", "56a638f689abbfd67650121cd4fdbe044e69e86c")
ORTHOUGHT = ("ZJU-TSELab/ORThought", "fb8a5ded1ab5f9759a3f513dc96ecb53ee1043d4")

JSONL = "jsonl"
JSON_ARRAY = "json"
DIRECTORY = "dir"


@dataclass(frozen=True)
class DatasetSpec:
    """One benchmark source: where it lives, how records are laid out, and its license."""

    name: str
    repo: str
    commit: str
    path: str
    sha256: str | None
    format: str  # jsonl | json | dir
    question_key: str
    answer_key: str
    id_key: str | None = None
    records: int | None = None
    license: str = "none"
    description: str = ""
    class_keys: tuple[str, ...] = ()  # record fields that name a problem class or difficulty
    folders: tuple[str, ...] = field(default=(), repr=False)  # directory releases only

    def url(self, base_url: str | None = None) -> str:
        """The raw file (or folder) URL at the pinned commit; ``base_url`` replaces the host part."""
        base = (base_url or RAW_BASE).rstrip("/")
        return f"{base}/{self.repo}/{self.commit}/{self.path.strip('/')}"

    @property
    def filename(self) -> str:
        """The cache file name: the source's own name, or ``<name>.jsonl`` for directory releases."""
        return f"{self.name}.jsonl" if self.format == DIRECTORY else Path(self.path).name

    def summary(self) -> dict[str, object]:
        """Plain data for ``formulate datasets show``."""
        return {"name": self.name, "source": f"{self.repo} @ {self.commit}", "path": self.path,
                "url": self.url(), "sha256": self.sha256, "format": self.format, "records": self.records,
                "question_key": self.question_key, "answer_key": self.answer_key, "id_key": self.id_key,
                "license": self.license, "description": self.description}


def _single(name: str, src: tuple[str, str], path: str, sha256: str, fmt: str, q: str, a: str,
            records: int, license: str, id_key: str | None = None, class_keys: tuple[str, ...] = (),
            description: str = "") -> DatasetSpec:
    return DatasetSpec(name, src[0], src[1], path, sha256, fmt, q, a, id_key, records, license, description,
                       class_keys)


_SINGLE = [
    _single("nl4opt_orig", OPTMATH, "benchmark/NL4OPT.json",
            "87bc1930251dfef551a7cb1d4c79889a0b0522f7a715b285257f0ed7598f95f0", JSONL, "en_question", "en_answer",
            245, "Apache-2.0", description="NL4Opt test set as released with OptMATH"),
    _single("nl4opt_sirl", SIRL, "test_data/NL4OPT.jsonl",
            "7cf8e6fb097a57d9f647ab7b37d005656cbc6a89f6ba2978a52ed618bfbdb5df", JSONL, "en_question", "en_answer",
            245, "none", description="NL4Opt test set as released with SIRL"),
    _single("mamo_easylp_orig", MAMO, "data/optimization/Easy_LP/mamo_easy_lp.jsonl",
            "b37ae7d9fc0b8c39e172d070aed84e600549407886ef970083c0f6cadc2e60a6", JSONL, "Question", "Answer",
            652, "CC-BY-SA-4.0", id_key="id", class_keys=("Category", "Type"), description="MAMO EasyLP, original"),
    _single("mamo_easylp_sirl_fixed", SIRL, "test_data/MAMO_EasyLP_fixed.jsonl",
            "3704621599ff600216f810dd3b118b6ae86a69eb2afa7f386dbea88069657fb7", JSONL, "en_question", "en_answer",
            642, "none", description="MAMO EasyLP with labels corrected by SIRL"),
    _single("mamo_complexlp_orig", MAMO, "data/optimization/Complex_LP/mamo_complex_lp.jsonl",
            "07eb3db3d2af099871dfa4425b14887775179c158c38944fe4fe152b615bbfc3", JSONL, "Question", "Answer",
            211, "CC-BY-SA-4.0", id_key="id", class_keys=("Category", "Type"),
            description="MAMO ComplexLP, original"),
    _single("mamo_complexlp_sirl_fixed", SIRL, "test_data/MAMO_ComplexLP_fixed.jsonl",
            "0fe155db0ddb62ab82cdf270f2966afae9f46a512b1c02f6d8a9233f5d3f33c7", JSONL, "en_question", "en_answer",
            203, "none", description="MAMO ComplexLP with labels corrected by SIRL"),
    _single("industryor_sirl_fixedv2", SIRL, "test_data/IndustryOR_fixedV2.json",
            "756549264386d9c28f3bf15b442e4d45e345f809155f7c7951c9b7edfd25ee8b", JSONL, "en_question", "en_answer",
            100, "none", id_key="id", class_keys=("difficulty",), description="IndustryOR, SIRL fixed v2"),
    _single("nlp4lp_llmopt", LLMOPT, "data/testset/nlp4lp.jsonl",
            "3afb7493afb2a1c12131c416fdf43ba7e70ddd0afdddc34669e8432888676192", JSONL, "question", "answer",
            242, "none", id_key="index", description="NLP4LP as released with LLMOPT"),
    _single("complexor_llmopt", LLMOPT, "data/testset/complexor.jsonl",
            "281c331f057db6d245705a3ae10dd77424fbe7b805dfcb7e4dbbcac234df5720", JSONL, "question", "answer",
            18, "none", id_key="index", description="ComplexOR as released with LLMOPT"),
    _single("optibench_orig", RESOCRATIC, "data/OptiBench.json",
            "0378fab2065e084563913340bc4cff6818a891dc06c5adc83452b40fbd18e85b", JSON_ARRAY, "question", "results",
            605, "Apache-2.0", id_key="index", class_keys=("type",), description="OptiBench (ReSocratic)"),
    _single("optmath_bench", OPTMATH, "benchmark/OptMATH_Bench.json",
            "c5dbc2bf14995b880d13e306ff54ae81b603f07b565a31e52248533848ad3a93", JSON_ARRAY, "en_question",
            "en_answer", 166, "Apache-2.0", id_key="id", description="OptMATH-Bench, 166 problems"),
    _single("optmath_bench193", SIRL, "test_data/OptMATH_Bench_193.jsonl",
            "c931f07ed89c2fe1e92925e2372439cc4324ca215bf2df60850207ce120940d3", JSONL, "en_question", "en_answer",
            193, "none", description="OptMATH-Bench, 193 problems as released with SIRL"),
    _single("nl4opt_resocratic_e", RESOCRATIC, "data/NL4OPT-E.json",
            "82eb3d6bc1ec8d573d9acc74707150e4b866741ac5a6d6fceed9ee581f3b5e99", JSON_ARRAY, "question", "results",
            289, "Apache-2.0", id_key="index", class_keys=("type",), description="NL4Opt-E (ReSocratic)"),
    _single("industryor_llmopt", LLMOPT, "data/testset/industryor.jsonl",
            "89b636ce5f9db97c22612a529b43273887648ff6c9b067d244357aec45c20d95", JSONL, "question", "answer",
            100, "none", id_key="index", description="IndustryOR, original text and labels (answers rounded)"),
]

_DIRECTORIES = [
    ("logior", "LogiOR", "LogiOR (ORThought)"),
    ("nlp4lp_orthought", "NLP4LP", "NLP4LP, corrected by ORThought"),
    ("complexor_orthought", "ComplexOR", "ComplexOR, corrected by ORThought"),
    ("industryor_orthought", "IndustryOR", "IndustryOR, corrected by ORThought (83 of 100)"),
]

#: short names for the most used variants
ALIASES = {
    "nl4opt": "nl4opt_orig",
    "mamo_easylp": "mamo_easylp_orig",
    "mamo_complexlp": "mamo_complexlp_orig",
    "industryor": "industryor_sirl_fixedv2",
    "nlp4lp": "nlp4lp_llmopt",
    "complexor": "complexor_llmopt",
    "optibench": "optibench_orig",
}


@cache
def _orthought_folders() -> dict[str, list[str]]:
    data = json.loads((Path(__file__).with_name("orthought_folders.json")).read_text(encoding="utf-8"))
    if data.get("commit") != ORTHOUGHT[1]:
        raise DatasetError("orthought_folders.json does not match the pinned ORThought commit; reinstall formulate")
    return data["folders"]


@cache
def registry() -> dict[str, DatasetSpec]:
    """Every registered dataset by name (built once)."""
    specs = {s.name: s for s in _SINGLE}
    folders = _orthought_folders()
    for name, folder, description in _DIRECTORIES:
        names = tuple(folders[folder])
        specs[name] = DatasetSpec(name, ORTHOUGHT[0], ORTHOUGHT[1], f"datasets/processed/{folder}", None, DIRECTORY,
                                  "question.txt", "answer.json", None, len(names), "none", description,
                                  folders=names)
    return specs


def dataset_names() -> list[str]:
    """Registered names in registry order."""
    return list(registry())


def get_spec(name: str) -> DatasetSpec:
    """The registered dataset ``name`` (or an alias); DatasetError with a suggestion otherwise."""
    specs = registry()
    key = ALIASES.get(name, name)
    if key in specs:
        return specs[key]
    hint = did_you_mean(name, [*specs, *ALIASES])
    tail = f"; {hint}" if hint else "; see `formulate datasets list`, or pass a local .jsonl/.json file"
    raise DatasetError(f"unknown dataset `{name}`{tail}")


__all__ = ["ALIASES", "DIRECTORY", "DatasetSpec", "JSONL", "JSON_ARRAY", "RAW_BASE", "dataset_names", "get_spec",
           "registry"]
