"""The benchmark registry: every pinned public source, by name (from shared/data/sources.md).

Single files are fetched from ``https://raw.githubusercontent.com/<repo>/<commit>/<path>`` and checked
against their sha256. Directory releases (ORThought) keep one folder per problem; raw URLs cannot list
a folder, so the registry carries the folder names at the pinned commit (``orthought_folders.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
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
OPTENGINE = ("Cardinal-Operations/OPTEngine", "d84a4b49187071debf16f50ba03a193776213edd")

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
    benchmark: str = ""  # the benchmark this file is a release of (NL4Opt, MAMO EasyLP, ...)
    label_version: str = "original"  # whose labels: original, SIRL-fixed, ORThought-corrected, generated, ...
    label_issues: tuple[str, ...] = ()  # known problems with the labels, one sentence each
    rule: str | None = None  # the benchmark's own scoring rule (None: the project default)
    group_keys: tuple[str, ...] = ()  # record fields reported as accuracy by group (C3: class, size, ...)

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
                "license": self.license, "description": self.description, "benchmark": self.benchmark,
                "label_version": self.label_version, "label_issues": list(self.label_issues),
                "rule": self.rule, "group_keys": list(self.group_keys)}

    @property
    def version_label(self) -> str:
        """``benchmark / label version``: scores compare only between runs with the same one."""
        return f"{self.benchmark or self.name} / {self.label_version}"


def _single(name: str, src: tuple[str, str], path: str, sha256: str, fmt: str, q: str, a: str,
            records: int, license: str, id_key: str | None = None, class_keys: tuple[str, ...] = (),
            description: str = "", **labels: object) -> DatasetSpec:
    return DatasetSpec(name, src[0], src[1], path, sha256, fmt, q, a, id_key, records, license, description,
                       class_keys, **labels)  # type: ignore[arg-type]


_ROUNDED = "some labels are rounded or written with thousands separators; the raw label is kept beside the parsed one"
_INFEASIBLE_MARKERS = "infeasible problems are labelled with a marker ('No Best Solution', -9999), not a status"
_AUDITED = ("later audits (SIRL, ORThought) found wrong labels in this release; compare only with tables built on "
            "the same release")


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

_LABELS: dict[str, dict[str, object]] = {
    "nl4opt_orig": {"benchmark": "NL4Opt", "label_version": "original",
                    "label_issues": (_AUDITED, _INFEASIBLE_MARKERS)},
    "nl4opt_sirl": {"benchmark": "NL4Opt", "label_version": "SIRL release",
                    "label_issues": (_INFEASIBLE_MARKERS,)},
    "mamo_easylp_orig": {"benchmark": "MAMO EasyLP", "label_version": "original",
                         "label_issues": (_AUDITED, "SIRL's fixed release drops 10 of the 652 problems")},
    "mamo_easylp_sirl_fixed": {"benchmark": "MAMO EasyLP", "label_version": "SIRL-fixed",
                               "label_issues": ("642 of the 652 original problems; `is_checked` marks audited "
                                                "labels",)},
    "mamo_complexlp_orig": {"benchmark": "MAMO ComplexLP", "label_version": "original",
                            "label_issues": (_AUDITED, "SIRL's fixed release drops 8 of the 211 problems")},
    "mamo_complexlp_sirl_fixed": {"benchmark": "MAMO ComplexLP", "label_version": "SIRL-fixed",
                                  "label_issues": ("203 of the 211 original problems; `is_checked` marks audited "
                                                   "labels",)},
    "industryor_sirl_fixedv2": {"benchmark": "IndustryOR", "label_version": "SIRL-fixed v2",
                                "label_issues": ("labels corrected by SIRL (second revision); problem texts as "
                                                 "in the original",)},
    "industryor_llmopt": {"benchmark": "IndustryOR", "label_version": "original",
                          "label_issues": (_AUDITED, _ROUNDED,
                                           "ORThought's corrected release keeps 83 of the 100 problems")},
    "nlp4lp_llmopt": {"benchmark": "NLP4LP", "label_version": "LLMOPT release",
                      "label_issues": ("ORThought's corrected release differs (264 problems)",)},
    "complexor_llmopt": {"benchmark": "ComplexOR", "label_version": "LLMOPT release",
                         "label_issues": ("ORThought publishes corrected labels for the same 18 problems",)},
    "optibench_orig": {"benchmark": "OptiBench", "label_version": "original", "label_issues": ()},
    "optmath_bench": {"benchmark": "OptMATH-Bench", "label_version": "original (166)", "label_issues": ()},
    "optmath_bench193": {"benchmark": "OptMATH-Bench", "label_version": "SIRL release (193)",
                         "label_issues": ("193 problems, not the 166 of the OptMATH release",)},
    "nl4opt_resocratic_e": {"benchmark": "NL4Opt-E", "label_version": "ReSocratic release",
                            "label_issues": ()},
}

_C3_NOTE = ("labels generated programmatically and solved by the generator (high label quality); texts round "
            "some data, so the benchmark scores with a relative 0.2% tolerance (rel2e-3) and the strict rule is "
            "reported beside it")
_C3 = [  # name, path, sha256, records, perturbation field, description
    ("c3_canonical", "test_data/canonical/canonical.jsonl",
     "fdc7021278c22b6ffce068a95f0ad7d705cfe50674647b73e6af34f9c97840f5", 1810, None,
     "C3-Bench canonical problems (OPT-Engine): 10 classes at growing sizes"),
    ("c3_linguistic", "test_data/perturbations/linguistic_complexity.jsonl",
     "513aece3dd0e7f2af55b149e8018de4101d79523ef5cc80cd2d72dfc5030ba07", 1640, "linguistic_complexity",
     "C3-Bench perturbation: linguistic complexity (easy/moderate/hard)"),
    ("c3_objective", "test_data/perturbations/objective_perturbation.jsonl",
     "4b67402c3eb157d563c39ffcbee639bc367d14dc145b7aab3b046744da3aa566", 1060, "objective_type",
     "C3-Bench perturbation: objective changed"),
    ("c3_constraint", "test_data/perturbations/constraint_augmentation.jsonl",
     "79170ad525dae10ad132fa5ad8fdc9d5419c61a6e18e99d2cce5295b7eb64a0c", 1060, None,
     "C3-Bench perturbation: constraints added"),
]
C3_RULE = "rel2e-3"


def _c3_specs() -> list[DatasetSpec]:
    specs = []
    for name, path, sha, records, extra, description in _C3:
        groups = ("problem_class", "size", "experimental_type") + ((extra,) if extra else ())
        specs.append(DatasetSpec(name, OPTENGINE[0], OPTENGINE[1], path, sha, JSONL, "question", "answer", None,
                                 records, "none", description, ("problem_class",), benchmark="C3-Bench",
                                 label_version="generated", label_issues=(_C3_NOTE,), rule=C3_RULE,
                                 group_keys=groups))
    return specs


_DIRECTORIES = [
    ("logior", "LogiOR", "LogiOR (ORThought)"),
    ("nlp4lp_orthought", "NLP4LP", "NLP4LP, corrected by ORThought"),
    ("complexor_orthought", "ComplexOR", "ComplexOR, corrected by ORThought"),
    ("industryor_orthought", "IndustryOR", "IndustryOR, corrected by ORThought (83 of 100)"),
]

_CORRECTED = ("labels corrected by ORThought; problems it could not fix are left out",)
_DIRECTORY_LABELS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "logior": ("LogiOR", "original", ("statuses other than optimal mark infeasible or unbounded problems",)),
    "nlp4lp_orthought": ("NLP4LP", "ORThought-corrected", _CORRECTED),
    "complexor_orthought": ("ComplexOR", "ORThought-corrected", _CORRECTED),
    "industryor_orthought": ("IndustryOR", "ORThought-corrected", ("83 of the 100 problems", *_CORRECTED)),
}

#: short names for the most used variants
ALIASES = {
    "nl4opt": "nl4opt_orig",
    "mamo_easylp": "mamo_easylp_orig",
    "mamo_complexlp": "mamo_complexlp_orig",
    "industryor": "industryor_sirl_fixedv2",
    "nlp4lp": "nlp4lp_llmopt",
    "complexor": "complexor_llmopt",
    "optibench": "optibench_orig",
    "c3": "c3_canonical",
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
    specs = {s.name: replace(s, **_LABELS.get(s.name, {})) for s in _SINGLE}  # type: ignore[arg-type]
    specs.update({s.name: s for s in _c3_specs()})
    folders = _orthought_folders()
    for name, folder, description in _DIRECTORIES:
        benchmark, version, issues = _DIRECTORY_LABELS[name]
        names = tuple(folders[folder])
        specs[name] = DatasetSpec(name, ORTHOUGHT[0], ORTHOUGHT[1], f"datasets/processed/{folder}", None, DIRECTORY,
                                  "question.txt", "answer.json", None, len(names), "none", description,
                                  folders=names, benchmark=benchmark, label_version=version,
                                  label_issues=issues)
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


__all__ = ["ALIASES", "C3_RULE", "DIRECTORY", "DatasetSpec", "JSONL", "JSON_ARRAY", "RAW_BASE", "dataset_names", "get_spec",
           "registry"]
