# sb_embed(OUTPUT out.cpp SYMBOL name BASE dir FILES f1 f2 ...): generates a .cpp that holds the
# files' bytes as `extern const sb::EmbeddedFile name[]` (+ `name_count`), regenerated when a
# file changes. Used for SQL migrations and the dashboard, so the binary is self-contained.
function(sb_embed)
  cmake_parse_arguments(E "" "OUTPUT;SYMBOL;BASE" "FILES" ${ARGN})
  string(REPLACE ";" "|" files_arg "${E_FILES}")
  add_custom_command(
    OUTPUT ${E_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUT=${E_OUTPUT} -DSYMBOL=${E_SYMBOL} -DBASE=${E_BASE}
            "-DFILES=${files_arg}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_script.cmake
    DEPENDS ${E_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_script.cmake
    COMMENT "Embedding ${E_SYMBOL}"
    VERBATIM)
endfunction()
