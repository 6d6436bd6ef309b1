"""``tsbptt forecast --model esn``: the echo-state network from the command line."""

import numpy as np
import pandas as pd

from tsbptt.cli import _main as cli


def test_forecast_model_esn_continues_a_sine_wave(wave_csv, tmp_path, capsys, wave,
                                                  wave_hours):
    out_csv = tmp_path / "f.csv"
    code = cli.main(["forecast", str(wave_csv), "--time-col", "ts", "--target", "value",
                     "--horizon", "6", "--lags", "24", "--model", "esn", "--threads", "1",
                     "--alpha", "1e-8", "--out", str(out_csv)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "wrote" in err
    frame = pd.read_csv(out_csv)
    np.testing.assert_allclose(frame["forecast"],
                               wave(wave_hours + np.arange(6)),
                               atol=1e-2)


def test_network_flags_are_refused_for_esn(wave_csv, capsys):
    code = cli.main(["forecast", str(wave_csv), "--time-col", "ts", "--target", "value",
                     "--horizon", "3", "--model", "esn", "--epochs", "3"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "--epochs applies to --model lstm, gru or rnn, not to --model esn" in err
    code = cli.main(["forecast", str(wave_csv), "--time-col", "ts", "--target", "value",
                     "--horizon", "3", "--model", "ridge", "--threads", "2"])
    _, err = capsys.readouterr()
    assert code == 2  # one list, not "lstm, gru or rnn or esn"
    assert "--threads applies to --model lstm, gru, rnn or esn, not to --model ridge" in err


def test_forecast_model_esn_stateful_strategy(wave_csv, tmp_path, capsys, wave, wave_hours):
    out_csv = tmp_path / "f.csv"
    code = cli.main(["forecast", str(wave_csv), "--time-col", "ts", "--target", "value",
                     "--horizon", "6", "--lags", "24", "--model", "esn", "--threads", "1",
                     "--strategy", "stateful", "--out", str(out_csv)])
    out, err = capsys.readouterr()
    assert code == 0, err
    frame = pd.read_csv(out_csv)
    np.testing.assert_allclose(frame["forecast"],
                               wave(wave_hours + np.arange(6)),
                               atol=1e-3)
    code = cli.main(["forecast", str(wave_csv), "--time-col", "ts", "--target", "value",
                     "--horizon", "3", "--model", "ridge", "--strategy", "stateful"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "--strategy stateful needs --model lstm, gru, rnn or esn, not --model ridge" \
        in err and "strategy='" not in err
    code = cli.main(["forecast", str(wave_csv), "--time-col", "ts", "--target", "value",
                     "--horizon", "3", "--model", "auto", "--strategy", "stateful"])
    _, err = capsys.readouterr()
    assert code == 2 and "--strategy stateful does not apply to --model auto" in err
