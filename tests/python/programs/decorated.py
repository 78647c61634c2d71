"""@profile on one of two equally busy functions (no import needed)."""


def plain(n):
    s = 0
    for i in range(n):  # @PLAIN
        s += i % 3  # @PLAIN
    return s


@profile  # noqa: F821 - scalene run provides it
def chosen(n):
    s = 0
    for i in range(n):  # @CHOSEN
        s += i % 5  # @CHOSEN
    return s


plain(3_000_000)
chosen(3_000_000)
print("done")
