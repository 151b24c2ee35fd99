"""Check that `make lab`'s set-up worked, without starting a server that waits forever.

`make lab` installs JupyterLab (with the ipywidgets extension) into `.venv`, registers the
course's kernel and opens JupyterLab on the course. This script is its install step's proof
(run by `make lab-setup`, and so by CI); it checks, and prints one line per check:

1. the `jupyter-lab` command of this environment runs (`jupyter lab --version`);
2. the kernel `vae-course` is registered and starts *this* environment's Python;
3. the widget extension (`@jupyter-widgets/jupyterlab-manager`) is installed and enabled;
4. in a live kernel, the widgets the course shows do render as widgets: chapter 07's latent
   explorer and the training progress bar (`tqdm.auto`) each send a widget view
   (`application/vnd.jupyter.widget-view+json`), not a text fallback.

Exit status 0 when all pass; 1 with the failing checks' reasons otherwise. Usage::

    python tools/check_lab.py [--kernel vae-course]
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "vae-course"
WIDGET_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Run in the kernel: the two widgets a learner meets in JupyterLab.
LIVE_CODE = {
    "latent explorer (chapter 07)": (
        "import torch\n"
        "from course_utils.widgets import latent_explorer\n"
        "latent_explorer(lambda z: torch.sigmoid(z.sum() * torch.ones(28, 28)), latent_dim=2)\n"),
    "training progress bar (tqdm.auto)": (
        "import os; os.environ.pop('TQDM_DISABLE', None)\n"
        "from tqdm.auto import tqdm\n"
        "for _ in tqdm(range(3), desc='epochs'): pass\n"),
}


def _bin(name: str) -> Path:
    return Path(sys.executable).parent / name


def check_lab_command() -> str:
    """`jupyter lab --version` of this environment; raises RuntimeError if it does not run."""
    exe = _bin("jupyter-lab")
    if not exe.exists():
        raise RuntimeError(f"{exe} not found: JupyterLab is not installed in this environment "
                           "(run `make lab-setup`, which installs requirements.txt)")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"`jupyter-lab --version` failed: {out.stderr.strip()[-300:]}")
    return out.stdout.strip()


def check_kernel(name: str = KERNEL) -> str:
    """The kernelspec `name`'s argv[0]; raises RuntimeError unless it is this Python."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise RuntimeError(f"kernel {name!r} is not registered (run `make lab-setup`)") from None
    python = Path(spec.argv[0])
    if python.resolve() != Path(sys.executable).resolve():
        raise RuntimeError(f"kernel {name!r} starts {python}, not this environment's "
                           f"{sys.executable} (run `make lab-setup` again)")
    return str(python)


def check_widget_extension() -> str:
    """The widget extension's line in `jupyter labextension list`; RuntimeError if absent."""
    out = subprocess.run([str(_bin("jupyter")), "labextension", "list"],
                         capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)  # drop colour codes
    for line in text.splitlines():
        if WIDGET_EXTENSION in line:
            if "enabled" in line and "OK" in line:
                return line.strip()
            raise RuntimeError(f"widget extension present but not usable: {line.strip()}")
    raise RuntimeError(f"{WIDGET_EXTENSION} is not installed: progress bars and the latent "
                       "explorer would show as text (jupyterlab_widgets is in requirements.txt)")


def widget_views(code: str, kernel: str = KERNEL, timeout: float = 120) -> list[dict]:
    """Run `code` in a fresh `kernel`; return the widget-view outputs it displayed."""
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name=kernel, cwd=str(ROOT))
    views = []
    try:
        msg_id = kc.execute(code)
        while True:
            msg = kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind in ("display_data", "execute_result") and WIDGET_VIEW in content["data"]:
                views.append(content["data"][WIDGET_VIEW])
            if kind == "error":
                raise RuntimeError(f"{content['ename']}: {content['evalue']}")
            if kind == "status" and content["execution_state"] == "idle":
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return views


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", default=KERNEL, help="kernel name to check (default %(default)s)")
    args = ap.parse_args(argv)
    checks = [("jupyter lab", check_lab_command),
              (f"kernel {args.kernel}", lambda: check_kernel(args.kernel)),
              ("widget extension", check_widget_extension)]
    for label, code in LIVE_CODE.items():
        def live(code=code):
            views = widget_views(code, args.kernel)
            if not views:
                raise RuntimeError("no widget view was displayed (text fallback only)")
            return f"{len(views)} widget view(s): " + json.dumps(views[0])[:60]
        checks.append((label, live))
    failed = 0
    for label, check in checks:
        try:
            print(f"ok   {label}: {check()}")
        except Exception as err:  # one line per failed check, then carry on
            failed += 1
            print(f"FAIL {label}: {err}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
