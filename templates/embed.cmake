# embed.cmake - write the built-in templates (every NAME.mustache of DIR)
# into one C file, OUT, as the table as_tpl_builtins[] of
# src/render/template.h.  The build runs it (see CMakeLists.txt):
#
#   cmake -DDIR=templates -DOUT=build/as_templates.c -P templates/embed.cmake
#
# The same files are the package's examples: one source of truth.
file(GLOB files "${DIR}/*.mustache")
list(SORT files)
set(out "/* Generated from the NAME.mustache files of templates/ by templates/embed.cmake. */\n")
string(APPEND out "#include <stddef.h>\n\n#include \"render/template.h\"\n\n")
set(table "")
set(i 0)
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME)
  string(REGEX REPLACE "\\.mustache$" "" name "${name}")
  file(READ "${f}" hex HEX)
  string(LENGTH "${hex}" size)
  math(EXPR size "${size} / 2")
  # Bytes as numbers, 16 a line: no escaping rules to get wrong.
  string(APPEND out "static const unsigned char as_tpl_src${i}[] = {\n")
  set(pos 0)
  while(pos LESS size)
    math(EXPR at "${pos} * 2")
    string(SUBSTRING "${hex}" ${at} 32 line)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1, " line "${line}")
    string(APPEND out "    ${line}\n")
    math(EXPR pos "${pos} + 16")
  endwhile()
  string(APPEND out "    0x00};\n\n")
  string(APPEND table "    {\"${name}\", (const char *)as_tpl_src${i}, ${size}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND out "const as_tpl_builtin_t as_tpl_builtins[] = {\n${table}    {NULL, NULL, 0},\n};\n")
file(WRITE "${OUT}" "${out}")
