dnl STSDANE_REQUIRE_PKG(MODULE, DEBIAN-PACKAGE)
dnl Fail with the Debian package to install when a pkg-config module is missing.
AC_DEFUN([STSDANE_REQUIRE_PKG], [
  AC_MSG_CHECKING([for $1])
  AS_IF([$PKG_CONFIG --exists $1],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([$1 not found: apt-get install $2])])
])

dnl STSDANE_REQUIRE_DB53: Berkeley DB 5.3 (no pkg-config file in Debian).
AC_DEFUN([STSDANE_REQUIRE_DB53], [
  AC_CHECK_HEADER([db.h], [], [AC_MSG_ERROR([db.h not found: apt-get install libdb5.3-dev])])
  AC_CHECK_LIB([db-5.3], [db_env_create], [], [AC_MSG_ERROR([libdb-5.3 not found: apt-get install libdb5.3-dev])])
])
