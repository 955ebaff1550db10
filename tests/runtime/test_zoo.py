"""Zoo models end to end through the ASan/UBSan driver: the stored goldens and 20 seeded random
inputs, bit-exact against tflite-micro. Skips (naming the ops) models whose ops are not all
registered in the runtime."""

from __future__ import annotations

import pytest
from support.zoo import by_name
from support.zoo_driver import check_zoo_model

ZOO = by_name("driver")


@pytest.mark.shared_models
@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_model(driver, name):
    check_zoo_model(driver, name)
