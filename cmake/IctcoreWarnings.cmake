# Project-wide warning policy: every target of ours builds with -Wall -Wextra -Werror.
# GCC 12 reports -Wrestrict false positives inside std::string assignment at -O2 and above
# (GCC bug 105651, fixed in GCC 13), so that one warning is off for GCC before 13.
function(ictcore_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)
endfunction()
