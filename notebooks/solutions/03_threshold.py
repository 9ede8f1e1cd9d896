from kit import check


def threshold(ask, low, high, epsilon):
    left = ask(low)
    while high - low > epsilon:
        middle = (low + high) / 2
        if ask(middle) == left:
            low = middle
        else:
            high = middle
    return (low + high) / 2


check.threshold_search(threshold)
