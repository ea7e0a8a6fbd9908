// doctest's main(): the unit-test executable is every tests/unit/*.cpp linked together.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
