"""A disk that fills while a checkpoint or the export is written: one-line error, earlier files intact."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch

from glmtasks.errors import WriteError


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_checkpoint_that_cannot_be_written_leaves_the_previous_one_intact(tmp_path, monkeypatch):
    from glmtasks.trainer import AtomicCheckpointIO

    io = AtomicCheckpointIO()
    target = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(2)}, "global_step": 4}, target)

    def partial_then_full(checkpoint, path):
        Path(path).write_bytes(b"half a checkpoint")
        no_space()

    import glmtasks.trainer

    monkeypatch.setattr(glmtasks.trainer, "_save_to_file", partial_then_full)
    with pytest.raises(WriteError, match=r"cannot write checkpoint .*last.ckpt: No space left on device; the previous checkpoint is intact; free space and continue with resume=auto"):
        io.save_checkpoint({"state_dict": {"w": torch.zeros(2)}, "global_step": 8}, target)
    monkeypatch.undo()
    assert torch.load(target, weights_only=True)["global_step"] == 4
    assert [p.name for p in target.parent.iterdir()] == ["last.ckpt"], "no temporary file is left"


def test_a_checkpoint_is_written_without_an_in_memory_copy(tmp_path, monkeypatch):
    """torch.save goes straight into the file (Lightning's writer buffers the whole checkpoint twice)."""
    import lightning.fabric.plugins.io.torch_io as lightning_writer

    from glmtasks.trainer import AtomicCheckpointIO

    def buffered_writer(*args, **kwargs):
        raise AssertionError("the checkpoint went through Lightning's buffered writer")

    monkeypatch.setattr(lightning_writer, "_atomic_save", buffered_writer)
    target = tmp_path / "best.ckpt"
    AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.arange(3.0)}, "global_step": 2}, target)
    monkeypatch.undo()
    assert torch.equal(torch.load(target, weights_only=True)["state_dict"]["w"], torch.arange(3.0))


def test_an_export_that_cannot_be_written_leaves_no_partial_folder_and_the_earlier_export(tmp_path):
    from glmtasks.run import export_head

    earlier = tmp_path / "earlier" / "export"
    earlier.mkdir(parents=True)
    (earlier / "config.json").write_text("{}")

    class FullDisk:
        def save_pretrained(self, directory):
            (Path(directory) / "config.json").write_text("{}")
            no_space()

    class Head:
        model, tokenizer = FullDisk(), None

    with pytest.raises(WriteError, match=r"cannot write the export .*: No space left on device; nothing of it was kept"):
        export_head(Head(), tmp_path / "run" / "export", {})
    assert not (tmp_path / "run" / "export").exists() and not (tmp_path / "run" / "export.partial").exists()
    assert (earlier / "config.json").is_file()
