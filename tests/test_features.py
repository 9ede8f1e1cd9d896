import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.features import CATEGORICAL, Feature, check_rows, encode, encoded_columns, encoded_width, sample_uniform

schemas = st.lists(
    st.one_of(
        st.builds(lambda low, span: Feature("x", low=low, high=low + span),
                  st.floats(-5, 5), st.floats(0.1, 10)),
        st.builds(lambda k: Feature("c", CATEGORICAL, categories=tuple(f"v{i}" for i in range(k))),
                  st.integers(1, 6)),
    ),
    min_size=1, max_size=6,
)


@settings(max_examples=50, deadline=None)
@given(features=schemas, n=st.integers(0, 40), seed=st.integers(0, 2**16))
def test_uniform_points_fit_the_schema_and_encode_to_d_columns(features, n, seed):
    X = sample_uniform(features, n, random_state=seed)
    assert np.array_equal(check_rows(features, X).reshape(X.shape), X)
    encoded = encode(features, X)
    assert encoded.shape == (n, encoded_width(features))
    for j, feature in enumerate(features):
        block = encoded[:, encoded_columns(features) == j]
        if feature.kind == CATEGORICAL:
            assert np.all(block.sum(axis=1) == 1)  # exactly one hot
        else:
            assert np.all((feature.low <= block) & (block <= feature.high))
    assert np.array_equal(X, sample_uniform(features, n, random_state=seed))


def test_describe_is_one_line_per_feature():
    assert Feature("age").describe() == "age: continuous in [-1, 1]"
    colour = Feature("colour", CATEGORICAL, categories=("red", "green", "blue", "grey", "pink"))
    assert colour.describe() == "colour: categorical, 5 values (red, green, blue, grey, ...)"


def test_a_bad_feature_kind_or_empty_categories_is_refused():
    with pytest.raises(ValueError, match="feature kind must be 'continuous' or 'categorical', got 'ordinal'"):
        Feature("x", "ordinal")
    with pytest.raises(ValueError, match="needs at least one category"):
        Feature("x", CATEGORICAL)


def test_a_missing_categorical_value_encodes_as_no_hot_column():
    features = (Feature("c", CATEGORICAL, categories=("a", "b")), Feature("x"))
    assert encode(features, [[np.nan, 0.5]]).tolist() == [[0.0, 0.0, 0.5]]
