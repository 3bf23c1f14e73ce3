#pragma once
// Early-return helpers for code that chains many Result-returning steps, so a
// parser reads as a list of fields rather than a ladder of error checks.

#include <utility>

#include "common/error.hpp"

#define FERRY_CONFIG_CONCAT_INNER(a, b) a##b
#define FERRY_CONFIG_CONCAT(a, b) FERRY_CONFIG_CONCAT_INNER(a, b)

/// Evaluates a Status or Result and returns its error from the enclosing function.
#define FERRY_TRY(...)                                                   \
  do {                                                                   \
    if (auto ferry_try_result = (__VA_ARGS__); !ferry_try_result)        \
      return ::ferry::fail(std::move(ferry_try_result).error());         \
  } while (false)

/// `FERRY_ASSIGN(auto value, parse(x));`: unwraps a Result into `lhs` or returns its error.
#define FERRY_ASSIGN(lhs, ...) \
  FERRY_ASSIGN_IMPL(FERRY_CONFIG_CONCAT(ferry_assign_result_, __LINE__), lhs, __VA_ARGS__)
#define FERRY_ASSIGN_IMPL(tmp, lhs, ...)                     \
  auto tmp = (__VA_ARGS__);                                  \
  if (!tmp) return ::ferry::fail(std::move(tmp).error());    \
  lhs = std::move(*tmp)
