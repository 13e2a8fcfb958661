"""The IVR's prompts as sound files: spoken by espeak-ng, made 8 kHz mono 16-bit by sox.

Every prompt text of the ``[ivr]`` config (Mandarin with espeak-ng's ``cmn``
voice, English with ``en``) becomes ``ivr-<hash>.wav`` in the instance's sounds
folder, where ``<hash>`` is of the voice and the text: a changed text is a new
file, an unchanged one is not spoken again (the cache), and the FastAGI driver
finds a prompt's file from the config alone (:func:`prompt_name`). Without
espeak-ng or sox, :func:`generate` fails with an error naming the prompt.

**An operator's recording wins.** With ``[ivr] recorded_prompts = "<folder>"``, a
file ``<folder>/<prompt>.<language>.wav`` (``menu.main.english.wav``,
``survey_ask.mandarin.wav``) is converted by sox into the prompt's file instead
of the spoken text; a ``.source`` file beside it remembers which recording (path,
size, time) it was made from, so a changed recording is converted again and a
removed one is spoken again. The driver's file name stays the text's hash: the
dialplan and serve need not know whether a prompt was recorded.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from ivr.config import LANGUAGES, IvrConfig

__all__ = [
    "VOICES",
    "PromptError",
    "generate",
    "generate_texts",
    "prompt_name",
    "recording",
    "speak",
    "speak_one",
]

VOICES = {"mandarin": "cmn", "english": "en"}
TIMEOUT_S = 30.0


class PromptError(RuntimeError):
    """A prompt could not be made into a sound file."""


def prompt_name(text: str, language: str) -> str:
    """The sound's file name without ``.wav`` (Asterisk adds the extension)."""
    digest = hashlib.sha256(f"{VOICES[language]}\n{text}".encode()).hexdigest()
    return f"ivr-{digest[:16]}"


def generate(
    cfg: IvrConfig, out_dir: Path, *, espeak: str = "espeak-ng", sox: str = "sox"
) -> list[Path]:
    """Speak (or convert the recording of) every IVR prompt not yet in ``out_dir``;
    returns the files made."""
    recorded = Path(cfg.recorded_prompts) if cfg.recorded_prompts else None
    return generate_texts(cfg.prompts, out_dir, recorded, espeak=espeak, sox=sox)


def recording(recorded: Path | None, prompt: str, language: str) -> Path | None:
    """The operator's recording of ``prompt`` in ``language``, if there is one."""
    if recorded is None:
        return None
    path = recorded / f"{prompt}.{language}.wav"
    return path if path.is_file() else None


def generate_texts(
    prompts: Mapping[str, tuple[str, str]],
    out_dir: Path,
    recorded: Path | None = None,
    *,
    espeak: str = "espeak-ng",
    sox: str = "sox",
) -> list[Path]:
    """``prompts``: prompt id → (mandarin, english) text; see :func:`generate`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    for prompt in sorted(prompts):
        for language, text in zip(LANGUAGES, prompts[prompt], strict=True):
            target = out_dir / f"{prompt_name(text, language)}.wav"
            source = target.with_suffix(".source")
            rec = recording(recorded, prompt, language)
            if rec is not None:
                st = rec.stat()
                mark = f"{rec.resolve()} {st.st_size} {st.st_mtime_ns}\n"
                if target.is_file() and _read(source) == mark:
                    continue
                _convert(prompt, language, rec, target, sox)
                source.write_text(mark, encoding="utf-8")
            else:
                if target.is_file() and not source.exists():
                    continue
                _speak(prompt, language, text, target, espeak, sox)
                source.unlink(missing_ok=True)
            made.append(target)
    return made


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _convert(prompt: str, language: str, rec: Path, target: Path, sox: str) -> None:
    what = f"recorded prompt {prompt!r} ({language}) {rec}"
    if shutil.which(sox) is None:
        raise PromptError(f"{what}: {sox} is not installed (apt-get install sox)")
    tmp = target.with_name(f".{target.stem}.tmp.wav")
    try:
        _run([sox, str(rec), "-r", "8000", "-c", "1", "-b", "16", str(tmp)], what)
        tmp.chmod(0o644)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def speak(
    items: Iterable[tuple[str, str]], out_dir: Path, *, espeak: str = "espeak-ng", sox: str = "sox"
) -> list[Path]:
    """Speak each ``(text, language)`` not yet in ``out_dir`` (prompts made from other
    config than ``[ivr]``: the closed queues' hours, :mod:`ivr.after_hours`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    for text, language in items:
        target = out_dir / f"{prompt_name(text, language)}.wav"
        if not target.is_file():
            _speak(text[:40], language, text, target, espeak, sox)
            made.append(target)
    return made


def speak_one(
    what: str,
    text: str,
    language: str,
    out_dir: Path,
    *,
    espeak: str = "espeak-ng",
    sox: str = "sox",
) -> Path:
    """One text (``what`` names it in errors) as ``<out_dir>/<prompt_name>.wav``,
    spoken unless already there (blocking: run it off the event loop)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{prompt_name(text, language)}.wav"
    if not target.is_file():
        _speak(what, language, text, target, espeak, sox)
    return target


def _speak(prompt: str, language: str, text: str, target: Path, espeak: str, sox: str) -> None:
    what = f"IVR prompt {prompt!r} ({language})"
    for tool, package in ((espeak, "espeak-ng"), (sox, "sox")):
        if shutil.which(tool) is None:
            raise PromptError(f"{what}: {tool} is not installed (apt-get install {package})")
    raw = target.with_name(f".{target.stem}.raw.wav")
    tmp = target.with_name(f".{target.stem}.tmp.wav")
    try:
        _run([espeak, "-v", VOICES[language], "-w", str(raw), "--", text], what)
        _run([sox, str(raw), "-r", "8000", "-c", "1", "-b", "16", str(tmp)], what)
        tmp.chmod(0o644)
        tmp.replace(target)
    finally:
        raw.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)


def _run(args: list[str], what: str) -> None:
    try:
        done = subprocess.run(args, capture_output=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PromptError(f"{what}: {args[0]} failed: {e}") from e
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()[-300:]
        raise PromptError(f"{what}: {args[0]} exited with {done.returncode}: {err}")
