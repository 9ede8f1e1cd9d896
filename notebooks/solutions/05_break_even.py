from kit import check

answer = 530  # the copy answers for free: once it has saved 530 paid queries, the theft is paid back
check.break_even(answer, queries=530)
