"""``linear``: word + character TF-IDF into a calibrated linear SVM, for English and Chinese."""

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression

import ml
from ml.linear import chinese_words


def test_chinese_words_come_from_jiebas_dictionary_without_whitespace_tokens():
    assert chinese_words("送餐太慢了，饭都凉了") == ["送餐", "太慢", "了", "，", "饭", "都", "凉", "了"]
    assert chinese_words("味道不错 下次还会再来") == ["味道", "不错", "下次", "还会", "再", "来"]


def test_chinese_reviews_use_jieba_words_and_characters(waimai_slice):
    train_x, train_y, test_x, test_y = waimai_slice
    model = ml.build("sentiment", "linear", random_state=0).fit(train_x, train_y)
    assert model.language_ == "zh"
    words = model.pipeline_.named_steps["tfidf"].transformer_list[0][1]
    assert "送餐" in words.vocabulary_ or "太慢" in words.vocabulary_
    assert np.mean(model.predict(test_x) == np.asarray(test_y)) >= 0.8  # chance is 0.5


def test_probabilities_are_calibrated_svm_scores(banking_slice):
    train_x, train_y, test_x, test_y = banking_slice
    model = ml.build("intent", "linear", random_state=0).fit(train_x, train_y)
    classifier = model.pipeline_.named_steps["classifier"]
    assert isinstance(classifier, CalibratedClassifierCV)
    proba = model.predict_proba(test_x)
    correct = proba.argmax(axis=1) == np.searchsorted(model.classes_, test_y)
    # confident answers are right more often than unsure ones
    confident = proba.max(axis=1) >= np.median(proba.max(axis=1))
    assert correct[confident].mean() >= correct[~confident].mean()


# Six texts; the class "cancel" has a single one.
ONE_TEXT_CLASS = (
    ["card arrived?", "where is my card", "card not here", "exchange rate today", "rate for euros", "cancel my account"],
    ["card", "card", "card", "rate", "rate", "cancel"],
)


def test_a_class_with_one_text_falls_back_to_logistic_regression():
    model = ml.build("intent", "linear", random_state=0).fit(*ONE_TEXT_CLASS)
    assert isinstance(model.pipeline_.named_steps["classifier"], LogisticRegression)
    assert model.predict(["where is my card please"])[0] == "card"


def test_single_string_is_refused():
    model = ml.build("intent", "linear").fit(["card late", "card lost", "my card", "rate now", "rate today", "the rate"],
                                             ["x", "x", "x", "y", "y", "y"])
    with pytest.raises(ValueError, match="sequence of strings"):
        model.predict("a b")
