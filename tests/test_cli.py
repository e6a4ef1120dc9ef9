"""``jaxrnn check`` prints the table, exits 0 as shipped and non-zero on a planted error."""

import dataclasses

import jax
import numpy as np
import pytest

from jaxrnn import cells, cli


def test_check_passes_as_shipped(capsys):
    assert cli.main(["check", "--cell", "rnn", "--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    assert "vs jax.vjp" in out and "vs finite diff." in out and "all agree" in out
    assert out.count("PASS") == 2


@pytest.mark.parametrize("gradient", ["dWf", "dc_prev"])
def test_check_fails_on_a_planted_error(monkeypatch, capsys, gradient):
    real = cells.CELLS["lstm"]

    def broken(da_next, dc_next, cache):
        gradients = dict(real.cell_backward(da_next, dc_next, cache))
        gradients[gradient] = 1.01 * gradients[gradient]
        return gradients

    broken.__name__ = "lstm_cell_backward"
    monkeypatch.setitem(cells.CELLS, "lstm", dataclasses.replace(real, cell_backward=broken))
    assert cli.main(["check", "--cell", "lstm", "--dtype", "float32"]) == 1
    out = capsys.readouterr().out
    assert "DISAGREEMENT" in out
    cell_row = next(line for line in out.splitlines() if " lstm  cell " in line)
    assert f'FAIL: lstm_cell_backward: gradients["{gradient}"]' in cell_row
    assert f"{gradient} vs autodiff" in cell_row


def test_unknown_device_is_a_clear_error():
    with pytest.raises(SystemExit, match="no device 'tpu:7'"):
        cli.devices("tpu:7")


def test_every_device_is_listed():
    assert set(jax.devices()) <= set(cli.devices("all"))
    assert [d.platform for d in cli.devices("cpu")] == ["cpu"] * len(jax.devices("cpu"))


def test_report_rows_cover_cells_levels_and_dtypes(capsys):
    assert cli.main(["check", "--cell", "lstm", "--dtype", "float32", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert out.count("not returned by the backward (not checked): dWy, dby") == 2
    assert np.dtype("float32").name in out
