#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Early returns for absl::Status and absl::StatusOr, for code that reads a sequence of fallible
// steps (a decoder, a pipeline) and passes the first failure up unchanged. Debian's Abseil does
// not export its own.
//
// Both expand to statements, not expressions: use them where a statement may stand, and never as
// the body of an `if` or a loop without braces.

// Returns the status of `expr` (an absl::Status) from the enclosing function unless it is OK.
#define PERFCAST_RETURN_IF_ERROR(expr)                         \
  do {                                                         \
    if (::absl::Status perfcast_status_macros_status = (expr); \
        !perfcast_status_macros_status.ok()) {                 \
      return perfcast_status_macros_status;                    \
    }                                                          \
  } while (false)

// Evaluates `expr` (an absl::StatusOr<T>) once; returns its status from the enclosing function
// unless it is OK, otherwise moves its value into `lhs`, which may declare a variable
// (`const std::string name`, `auto count`) or name an existing one. `lhs` may not contain an
// unparenthesised comma, and two uses may not share a source line.
#define PERFCAST_ASSIGN_OR_RETURN(lhs, expr) \
  PERFCAST_STATUS_MACROS_ASSIGN_OR_RETURN_(  \
      PERFCAST_STATUS_MACROS_CONCAT_(perfcast_status_macros_statusor_, __LINE__), lhs, expr)

#define PERFCAST_STATUS_MACROS_ASSIGN_OR_RETURN_(statusor, lhs, expr) \
  auto statusor = (expr);                                             \
  if (!statusor.ok()) return std::move(statusor).status();            \
  lhs = *std::move(statusor)

#define PERFCAST_STATUS_MACROS_CONCAT_(a, b) PERFCAST_STATUS_MACROS_CONCAT_INNER_(a, b)
#define PERFCAST_STATUS_MACROS_CONCAT_INNER_(a, b) a##b
