"""Small time series bundled with tsbptt, for examples, tests and tutorials.

- :func:`load_air_passengers`: real, monthly (``MS``), 144 values; facts from
  Box & Jenkins, not copyrightable.
- :func:`load_electricity_load`: synthetic, hourly (``h``), 2688 values of load
  and temperature; CC0.
- :func:`load_stock_prices`: synthetic, business days (``B``), 1043 closes; CC0.
- :func:`load_sensor_temperatures`: synthetic, hourly, 4 sensors x 1344 values in
  long format; CC0.

:func:`make_mackey_glass` generates the Mackey-Glass chaotic series (NumPy array,
deterministic), the classic benchmark of echo-state networks.

:func:`list_datasets` describes them in one line each. Every loader returns a new
pandas object on each call. Provenance and licenses are in the ``README.md`` next to
this module; the synthetic series are regenerated bit for bit by
``tools/make_datasets.py`` in the source repository.
"""
from ._loaders import (
    list_datasets,
    load_air_passengers,
    load_electricity_load,
    load_sensor_temperatures,
    load_stock_prices,
)
from ._generators import make_mackey_glass

__all__ = ["list_datasets", "load_air_passengers", "load_electricity_load",
           "load_sensor_temperatures", "load_stock_prices", "make_mackey_glass"]
