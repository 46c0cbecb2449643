"""Saving and loading models so that loading can never execute code.

Models are written with skops (``.skops``): a zip of JSON and numpy arrays, rebuilt on
load from an allow-list of types instead of unpickled. Before anything is built, every
type the file names is checked against the types scikit-learn, numpy and scipy
trust by default plus this package's own estimators (:data:`TRUSTED_TYPES`); a file
that names any other type is refused unless the caller passes it in ``trust``.

Beside the model, ``manifest.json`` records its file name, SHA-256 and training
provenance. The hash detects a damaged or swapped file; it is not what makes loading
safe (a swapped file and manifest would match): the type allow-list is.
"""
from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

MODEL_FILE = "model.skops"
MANIFEST = "manifest.json"

# Everything of this package's own that a saved PolicyModel contains. Anything else a file
# names beyond skops' default trust (scikit-learn, numpy, scipy) makes loading refuse.
TRUSTED_TYPES = (
    "classifier.classify.PolicyModel",
    "classifier.classify.NetworkTypeClassifier",
    "classifier.classify.OrientationClassifier",
    "classifier.classify._Constant",
    "classifier.featurize.PolicyFeaturizer",
    "classifier.featurize.Lexicon",
    "classifier.featurize._pre_tokenized",
    "classifier.embed.SentenceEmbedder",
    # scikit-learn's own calibration internals (plain data holders), not in skops' default list
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.calibration._TemperatureScaling",
    "builtins.tuple",
    "collections.OrderedDict",
    "numpy.dtypes.Float64DType",
    "numpy.dtypes.Int64DType",
    "numpy.dtypes.StrDType",
    "numpy.dtypes.ObjectDType",
    "scipy.sparse._csr.csr_matrix",
)


class ModelIntegrityError(RuntimeError):
    """A model directory that cannot be loaded safely: missing, damaged, or naming untrusted types."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def compact_coefficients(obj, seen: set | None = None) -> None:
    """Store every logistic regression's coefficients as float32, in place.

    The model file is then half the size; probabilities move by about 1e-6 (float32 precision),
    far below any decision threshold's grid step (0.05).
    """
    from sklearn.linear_model import LogisticRegression

    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, LogisticRegression) and hasattr(obj, "coef_"):
        obj.coef_ = obj.coef_.astype("float32")
        return
    children = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else \
        vars(obj).values() if hasattr(obj, "__dict__") and type(obj).__module__.split(".")[0] in ("classifier", "sklearn") else ()
    for child in children:
        compact_coefficients(child, seen)


def save_model(model, directory: Path, extra: dict | None = None) -> Path:
    """Write ``model.skops`` and its manifest into ``directory`` (each written whole, then renamed)."""
    import skops.io as sio

    compact_coefficients(model)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    partial = path.with_name(f".{MODEL_FILE}.tmp")
    sio.dump(model, partial, compression=zipfile.ZIP_DEFLATED, compresslevel=6)  # arrays compress about 5x
    write_reproducibly(partial)
    partial.replace(path)
    manifest = {"file": MODEL_FILE, "format": "skops", "sha256": file_sha256(path), **(extra or {})}
    write_text_atomic(directory / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    for stale in ("model.joblib",):  # an earlier, pickled format: never left beside a new model
        (directory / stale).unlink(missing_ok=True)
    return path


# skops names what it writes by the Python object ids of the objects (``__id__``, which it uses to restore shared
# references, and the array files, named ``<id>.npy`` or ``<id>.npz``) or by random names (``<uuid>.bin`` for bytes);
# both differ between runs, and so do the zip entries' times.
OBJECT_ID = re.compile(r'("__id__": )(\d+)|("file": ")([^"/]+?)(?=\.\w+")')
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def write_reproducibly(path: Path) -> None:
    """Rewrite a skops file so that the same model gives the same bytes: every object id and file name renumbered in
    order of first appearance (one numbering for ``__id__`` and file names, so shared references and files stay
    matched; from 1, as skops restores sharing only for a true id) and every entry timestamped alike. The manifest's
    SHA-256, and the tagging cache keyed on it, then change only when the model does."""
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    numbers: dict[str, str] = {}

    def renumber(match: re.Match) -> str:
        key, name = match.group(1) or match.group(3), match.group(2) or match.group(4)
        return key + numbers.setdefault(name, str(len(numbers) + 1))

    schema = OBJECT_ID.sub(renumber, next(data for info, data in entries if info.filename == "schema.json").decode())
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in entries:
            name = info.filename
            stem, dot, suffix = name.rpartition(".")
            if name == "schema.json":
                data = schema.encode("utf-8")
            elif dot and stem in numbers:
                name = f"{numbers[stem]}.{suffix}"
            fixed = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            archive.writestr(fixed, data, compresslevel=6)


def write_text_atomic(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def read_manifest(directory: Path) -> dict:
    """The manifest, checked: valid JSON, the fields loading needs, a file name inside the directory."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise ModelIntegrityError(f"{directory}: no {MANIFEST}; not a model directory")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelIntegrityError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise ModelIntegrityError(f"{path}: expected a JSON object")
    missing = [key for key in ("file", "sha256") if not isinstance(manifest.get(key), str)]
    if missing:
        raise ModelIntegrityError(f"{path}: missing field(s) {', '.join(missing)}")
    name = manifest["file"]
    if Path(name).name != name or name in ("", ".", ".."):
        raise ModelIntegrityError(f"{path}: file {name!r} points outside the model folder; refusing to follow it")
    if not name.endswith(".skops"):
        raise ModelIntegrityError(f"{path}: {name!r} is not a skops file; pickled models are not loaded "
                                  "(they can run code): retrain with `python train.py`")
    return manifest


def load_model(directory: Path, trust: tuple[str, ...] = ()):
    """Load a model directory without executing code from it.

    ``trust``: further type names to accept (only for a file whose origin you know).
    """
    import skops.io as sio

    directory = Path(directory)
    manifest = read_manifest(directory)
    path = directory / manifest["file"]
    if not path.is_file():
        raise ModelIntegrityError(f"{path}: model file named in the manifest is missing")
    actual = file_sha256(path)
    if actual != manifest["sha256"]:
        raise ModelIntegrityError(f"{path}: SHA-256 {actual[:16]}... does not match the manifest "
                                  f"({manifest['sha256'][:16]}...); the file is damaged or was replaced")
    try:
        named = sio.get_untrusted_types(file=path)
    except Exception as exc:  # not a skops archive at all
        raise ModelIntegrityError(f"{path}: not a readable skops file ({exc})") from None
    untrusted = sorted(set(named) - set(TRUSTED_TYPES) - set(trust))
    if untrusted:
        raise ModelIntegrityError(f"{path}: names types outside the allow-list, refusing to load it: "
                                  f"{', '.join(untrusted[:8])} (pass trust=... only if you know where the file is from)")
    return sio.load(path, trusted=list(named))
