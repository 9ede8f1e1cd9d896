from kit import check

answer = 108 + 1  # one weight per encoded feature, plus the bias
check.queries_for_binary_lr(answer, d=108)
