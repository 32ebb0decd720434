#pragma once
// libpq, loaded with dlopen when a postgresql:// database is first named, so that a home on
// SQLite never maps it nor the two dozen libraries it brings (GnuTLS, Kerberos, LDAP, ...):
// about 2.5 MB of a home's memory (docs/scale.md).
//
// The PostgreSQL store's code calls libpq by its own names: each is declared below, in the
// store's namespace, as a pointer to the function of the same name, and so hides the global
// one for every call made inside `sb::store::postgres`. The pointers are set by load_libpq()
// and are null before it has succeeded; every way into the store (open_postgres, the fleet's
// functions, postgres_problem) calls it first. The sunbridge binary does not link libpq, so a
// call that misses this table fails at link time, not at run time.
#include <libpq-fe.h>

#include "core/result.hpp"

namespace sb::store::postgres {

/// Loads libpq.so.5 once and resolves the functions below; later calls return the first
/// call's outcome. The error names the library, the Debian package and what dlopen said.
Result<void> load_libpq();

extern decltype(&::PQconnectdb) PQconnectdb;
extern decltype(&::PQfinish) PQfinish;
extern decltype(&::PQreset) PQreset;
extern decltype(&::PQstatus) PQstatus;
extern decltype(&::PQsocket) PQsocket;
extern decltype(&::PQerrorMessage) PQerrorMessage;
extern decltype(&::PQsetNoticeProcessor) PQsetNoticeProcessor;
extern decltype(&::PQconninfoParse) PQconninfoParse;
extern decltype(&::PQconninfoFree) PQconninfoFree;
extern decltype(&::PQexec) PQexec;
extern decltype(&::PQexecParams) PQexecParams;
extern decltype(&::PQgetResult) PQgetResult;
extern decltype(&::PQresultStatus) PQresultStatus;
extern decltype(&::PQresultErrorMessage) PQresultErrorMessage;
extern decltype(&::PQresultErrorField) PQresultErrorField;
extern decltype(&::PQntuples) PQntuples;
extern decltype(&::PQgetvalue) PQgetvalue;
extern decltype(&::PQgetlength) PQgetlength;
extern decltype(&::PQgetisnull) PQgetisnull;
extern decltype(&::PQcmdTuples) PQcmdTuples;
extern decltype(&::PQclear) PQclear;
extern decltype(&::PQfreemem) PQfreemem;
extern decltype(&::PQputCopyData) PQputCopyData;
extern decltype(&::PQputCopyEnd) PQputCopyEnd;
extern decltype(&::PQconsumeInput) PQconsumeInput;
extern decltype(&::PQnotifies) PQnotifies;

}  // namespace sb::store::postgres
