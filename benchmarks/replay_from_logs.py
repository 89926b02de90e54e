"""Write a replay file (for ``--model replay:FILE``) from evaluation run logs.

    python benchmarks/replay_from_logs.py --out runs/replies.jsonl runs/a.jsonl runs/b.jsonl

A sample with logged model replies is replayed with those replies; a sample of the rules formulator
(no replies) with its formulation, written as a reply in a ```yaml fence. Samples with neither are
left out (the replay model then fails them at the formulate stage). Records are keyed by the logged
question hash, so the replay file never holds the problem texts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formulate.eval.runlog import read_log  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    written = skipped = 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for path in args.logs:
            for sid, record in read_log(path).samples.items():
                replies = record.get("replies") or []
                if not replies and record.get("formulation"):
                    replies = [f"```yaml\n{record['formulation']}```\n"]
                if not replies:
                    skipped += 1
                    continue
                fh.write(json.dumps({"key": record["question_sha256"], "id": sid, "responses": replies}) + "\n")
                written += 1
    print(f"{args.out}: {written} problems replayed, {skipped} without a reply or formulation left out")


if __name__ == "__main__":
    main()
