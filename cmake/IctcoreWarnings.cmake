# Project-wide warning policy: every target of ours builds with -Wall -Wextra -Werror.
function(ictcore_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()
