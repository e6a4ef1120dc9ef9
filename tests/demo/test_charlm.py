"""The character model: training lowers the loss; parameters round-trip through .npz exactly."""

import numpy as np
import pytest

from jaxrnn import cli
from jaxrnn.demo import charlm


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


def test_a_cell_of_your_own_trains_saves_and_loads(tmp_path):
    from user_cells import MGU

    from jaxrnn.cells import GRU

    model = charlm.train(MGU, steps=5, n_a=8, progress=False)
    assert model.cell is MGU and np.all(np.isfinite(model.losses))
    charlm.save(model, tmp_path / "mgu.npz")
    loaded = charlm.load(tmp_path / "mgu.npz", cell=MGU)
    assert loaded.cell is MGU and loaded.losses == model.losses
    for key, value in model.parameters.items():
        np.testing.assert_array_equal(loaded.parameters[key], value)
    assert len(charlm.sample(loaded, 20, seed=1)) == 20
    with pytest.raises(ValueError, match="unknown cell 'mgu'.*pass cell="):
        charlm.load(tmp_path / "mgu.npz")
    with pytest.raises(ValueError, match="its cell is 'mgu', not the 'gru' given"):
        charlm.load(tmp_path / "mgu.npz", cell=GRU)


def test_train_command(tmp_path, capsys):
    status = cli.main(["train", "--cell", "rnn", "--steps", "60", "--hidden", "16",
                       "--save", str(tmp_path / "m.npz")])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0 and "samples after training" in out and (tmp_path / "m.npz").exists()


def test_train_refuses_what_it_cannot_do_before_training(tmp_path, capsys):
    """A plot file matplotlib cannot write, a model larger than the memory: said at once."""
    assert cli.main(["train", "--plot", str(tmp_path / "loss.npz")]) == 2
    assert "matplotlib writes an image as" in capsys.readouterr().err
    assert cli.main(["train", "--hidden", "100000000"]) == 2
    err = capsys.readouterr().err
    assert "--hidden 100000000: the gru model's parameters" in err and "GiB of memory" in err


def bad_model_files(tmp_path):
    """``{what: path}``: files that are not a character model, each in its own way."""
    good = tmp_path / "good.npz"
    charlm.save(charlm.train("rnn", steps=0, n_a=4, progress=False), good)
    data = dict(np.load(good))
    files = {}

    def write(name, **arrays):
        files[name] = tmp_path / f"{name}.npz"
        np.savez(files[name], **arrays)

    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "truncated.npz").write_bytes(good.read_bytes()[:200])
    (tmp_path / "random.npz").write_bytes(np.random.default_rng(0).bytes(500))
    files |= {k: tmp_path / f"{k}.npz" for k in ("empty", "truncated", "random")}
    write("unknown cell", **{**data, "cell": np.array("transformer")})
    write("no vocabulary", **{k: v for k, v in data.items() if k != "vocabulary"})
    write("missing parameter", **{k: v for k, v in data.items() if k != "parameter_Waa"})
    write("wrong shape", **{**data, "parameter_Waa": np.zeros((4, 5), np.float32)})
    return files


EXPECTED = {
    "empty": "not a readable .npz archive",
    "truncated": "not a readable .npz archive",
    "random": "not a readable .npz archive",
    "unknown cell": "unknown cell 'transformer'",
    "no vocabulary": "it has no vocabulary",
    "missing parameter": "a rnn model has parameters",
    "wrong shape": "do not fit a vocabulary",
}


def test_load_names_the_file_and_what_is_wrong(tmp_path):
    for what, path in bad_model_files(tmp_path).items():
        with pytest.raises(ValueError) as info:
            charlm.load(path)
        message = str(info.value)
        assert str(path) in message and EXPECTED[what] in message, (what, message)


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"first": "Z"}, ValueError, "`first` must be one character"),
        ({"first": "ab"}, ValueError, "`first` must be one character"),
        ({"n_chars": -1}, ValueError, "`n_chars` must be at least 0"),
        ({"n_chars": 2.5}, TypeError, "`n_chars` must be an integer"),
    ],
)
def test_sample_arguments(kwargs, error, fragment):
    model = charlm.train("rnn", steps=0, n_a=4, progress=False)
    with pytest.raises(error, match=fragment):
        charlm.sample(model, **kwargs)
    assert charlm.sample(model, 0) == ""


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"learning_rate": float("nan")}, ValueError, "`learning_rate` must be a positive"),
        ({"learning_rate": float("inf")}, ValueError, "`learning_rate` must be finite"),
        ({"max_norm": 0}, ValueError, "`max_norm` must be a positive"),
        ({"n_a": 0}, ValueError, "`n_a` must be at least 1"),
        ({"steps": -1}, ValueError, "`steps` must be at least 0"),
        ({"cell": "lsmt"}, ValueError, "unknown cell 'lsmt'"),
        ({"optimizer": "adagrad"}, ValueError, "unknown optimizer 'adagrad'"),
    ],
)
def test_train_arguments(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        charlm.train(**{"steps": 1, "progress": False, **kwargs})


def test_an_empty_corpus_is_a_clear_error(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match="has 0 characters"):
        charlm.train("rnn", steps=1, corpus=tmp_path / "empty.txt", progress=False)


def test_the_optimizer_is_optax_and_can_be_chosen():
    """The default Adam, and plain SGD, both lower the loss; the optimizer state is Optax's."""
    import optax

    transform = charlm.make_optimizer("sgd", 0.5, 5.0)
    assert isinstance(transform, optax.GradientTransformation)
    model = charlm.train("rnn", steps=60, n_a=16, progress=False, optimizer="sgd",
                         learning_rate=0.1)  # fmt: skip
    assert np.mean(model.losses[-10:]) < np.mean(model.losses[:5])


def test_the_character_model_carries_its_state_across_chunks():
    ids = np.arange(100) % 7
    streams = charlm.Streams(ids, 7, m=2, T=10, rng=np.random.default_rng(0))
    (_, y1, fresh1), (x2, _, fresh2) = streams.next(), streams.next()
    assert not fresh1.any() and not fresh2.any()
    # the second chunk of each reader starts where its first ended
    np.testing.assert_array_equal(np.argmax(x2[:, :, 0], axis=0), y1[:, -1])
    model = charlm.train("lstm", steps=3, n_a=8, T=10, carry=True, progress=False)
    assert len(model.losses) == 3 and all(np.isfinite(model.losses))


def test_a_chunk_from_the_last_ones_states_continues_its_loss(rng):
    """J over 2T characters is J over the first T plus J over the next T from the states the
    first ended with: what train(carry=True) hands from one chunk to the next."""
    parameters = charlm.init_parameters("lstm", 7, 8)
    ids = rng.integers(0, 7, 41)
    x, labels = charlm._windows(ids, 7, np.array([0, 20]), 20)
    whole = charlm.cross_entropy("lstm", parameters, x, labels)
    J1, states = charlm._loss_and_last_states("lstm", parameters, x[..., :10], labels[:, :10])
    J2 = charlm.cross_entropy("lstm", parameters, x[..., 10:], labels[:, 10:], states)
    np.testing.assert_allclose(J1 + J2, whole, rtol=1e-5)
    assert abs(charlm.cross_entropy("lstm", parameters, x[..., 10:], labels[:, 10:]) - J2) > 1e-3
