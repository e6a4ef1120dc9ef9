"""The character model: training lowers the loss; parameters round-trip through .npz exactly."""

import numpy as np

from jaxrnn import charlm, cli


def test_training_lowers_the_loss_and_sampling_uses_the_vocabulary():
    model = charlm.train("lstm", steps=150, n_a=16, progress=False)
    assert np.mean(model.losses[-20:]) < 0.7 * np.mean(model.losses[:5])
    text = charlm.sample(model, 60, seed=3)
    assert len(text) == 60 and set(text) <= set(model.vocabulary.chars)


def test_save_and_load_round_trip_exactly(tmp_path):
    model = charlm.train("rnn", steps=5, n_a=8, progress=False)
    charlm.save(model, tmp_path / "model.npz")
    loaded = charlm.load(tmp_path / "model.npz")
    assert (loaded.cell, loaded.vocabulary, loaded.losses) == (
        model.cell,
        model.vocabulary,
        model.losses,
    )
    for key, value in model.parameters.items():
        assert loaded.parameters[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded.parameters[key], value)
    with np.load(tmp_path / "model.npz", allow_pickle=False) as data:  # no pickle inside
        assert "cell" in data.files


def test_train_command(tmp_path, capsys):
    status = cli.main(["train", "--cell", "rnn", "--steps", "60", "--hidden", "16",
                       "--save", str(tmp_path / "m.npz")])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0 and "samples after training" in out and (tmp_path / "m.npz").exists()
