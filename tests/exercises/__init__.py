"""What the notebooks' exercise checks are tried on: one module per notebook (``nb01.py`` ... ).

Each module defines

- ``state()``: the variables its notebook defines before the exercises (the namespace its solution files run in);
- ``CASES``: for every check the notebook uses, ``{name: (right, wrong)}``, two functions of no argument that
  call the check with a right and with a wrong answer and return its Verdict.

tests/test_check.py runs them all, and fails for a public check of kit.check that no module tries.
"""
