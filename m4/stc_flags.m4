# STC_CHECK_CFLAG(FLAG, ACTION-IF-OK, [ACTION-IF-NOT])
# Does the C compiler accept FLAG (warnings as errors)?
AC_DEFUN([STC_CHECK_CFLAG], [
  AC_MSG_CHECKING([whether $CC accepts $1])
  stc_save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS -Werror $1"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes]); $2], [AC_MSG_RESULT([no]); $3])
  CFLAGS=$stc_save_CFLAGS
])
# STC_CHECK_LDFLAG(FLAG, ACTION-IF-OK, [ACTION-IF-NOT])
# Does the linker accept FLAG?
AC_DEFUN([STC_CHECK_LDFLAG], [
  AC_MSG_CHECKING([whether the linker accepts $1])
  stc_save_LDFLAGS=$LDFLAGS; stc_save_CFLAGS=$CFLAGS
  LDFLAGS="$LDFLAGS $1"; CFLAGS="$CFLAGS $1"
  AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes]); $2], [AC_MSG_RESULT([no]); $3])
  LDFLAGS=$stc_save_LDFLAGS; CFLAGS=$stc_save_CFLAGS
])
