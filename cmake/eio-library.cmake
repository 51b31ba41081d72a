# eio_library(<name> SOURCES ... [PUBLIC_LINK ...] [PRIVATE_LINK ...]):
# the target eio_<name> with its alias eio::<name>, our C++17 and warning
# settings, include/ as its public headers, and its install rules. One place
# for what every eio library shares.
function(eio_library name)
  cmake_parse_arguments(arg "" "" "SOURCES;PUBLIC_LINK;PRIVATE_LINK" ${ARGN})
  set(target eio_${name})
  add_library(${target} ${arg_SOURCES})
  add_library(eio::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME ${target})
  target_compile_features(${target} PUBLIC cxx_std_17)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} PUBLIC ${arg_PUBLIC_LINK} PRIVATE ${arg_PRIVATE_LINK} $<BUILD_INTERFACE:eio_warnings>)
  if(EIO_INSTALL)
    install(TARGETS ${target} EXPORT eio-targets
            ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
            LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
    install(DIRECTORY include/eio DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
endfunction()
