"""Diagnostics print the user's names and messages as they are (no rich markup read from them)."""
from test_cli_train import classifier


def test_an_input_named_like_markup_is_reported_by_its_real_name(tmp_path):
    folder = tmp_path / "in[bold]"
    folder.mkdir()
    (folder / "notes[red] 2024.pdf").write_bytes(b"not a pdf")
    (folder / "ok.txt").write_text("Vouchers let SMEs buy R&D services from universities.\n", encoding="utf-8")
    result = classifier("ingest", str(folder), "--out", str(tmp_path / "out.parquet"))
    assert result.returncode == 1  # some inputs failed
    assert "notes[red] 2024.pdf: corrupt PDF" in result.stderr
    assert "failed 1" in result.stderr and result.stdout == ""


def test_an_error_message_with_brackets_is_printed_whole(tmp_path):
    text = tmp_path / "ok.txt"
    text.write_text("Vouchers let SMEs buy R&D services from universities.\n", encoding="utf-8")
    result = classifier("tag", str(text), "--out", str(tmp_path / "o.jsonl"), "--model", str(tmp_path / "m[bold]x"))
    assert result.returncode == 2
    assert "m[bold]x: no manifest.json" in result.stderr and "Traceback" not in result.stderr
