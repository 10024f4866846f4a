"""``python -m police_dev.fake``: write a fake data.police.uk release and/or serve it on 127.0.0.1.

python -m police_dev.fake generate --root data/fake-site --latest 2024-03 --months 3 --scale 20000
python -m police_dev.fake serve --root data/fake-site --port 8765
"""

import argparse
import sys

from police_dev.fake.generate import Release, write_release
from police_dev.fake.server import FakePoliceServer
from police_dev.serve import serve_until_interrupted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m police_dev.fake", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write a release (archive + API answers)")
    gen.add_argument("--root", required=True)
    gen.add_argument("--latest", required=True, help="the archive's month, YYYY-MM")
    gen.add_argument("--months", type=int, default=3)
    gen.add_argument("--scale", type=int, default=20000, help="street rows per month, nationally")
    gen.add_argument("--seed", type=int, default=1)
    srv = sub.add_parser("serve", help="serve a folder written by generate")
    srv.add_argument("--root", required=True)
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)

    if args.command == "generate":
        path = write_release(args.root, Release(args.latest, args.months, args.scale, args.seed))
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    else:
        serve_until_interrupted(FakePoliceServer(args.root, args.host, args.port), "fake data.police.uk")
    return 0


if __name__ == "__main__":
    sys.exit(main())
