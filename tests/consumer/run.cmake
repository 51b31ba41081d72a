# cmake -DMODE=find_package|add_subdirectory -DEIO_SOURCE_DIR=... -DEIO_BINARY_DIR=... -DWORK_DIR=... -P run.cmake
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGV}\n${out}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(configure_args -S ${CMAKE_CURRENT_LIST_DIR} -B ${WORK_DIR}/build -DEIO_CONSUMER_MODE=${MODE} -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_CXX_FLAGS=${CONSUMER_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_FLAGS}")
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install ${EIO_BINARY_DIR} --prefix ${WORK_DIR}/prefix)
  list(APPEND configure_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  list(APPEND configure_args -DEIO_SOURCE_DIR=${EIO_SOURCE_DIR})
endif()
run(${CMAKE_COMMAND} ${configure_args})
# Two jobs: the sanitizer build of every library, one file at a time, took
# more than ten minutes on CI's two cores.
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build --parallel 2)
run(${WORK_DIR}/build/eio_consumer)
run(${WORK_DIR}/build/eio_socketio_consumer)
run(${WORK_DIR}/build/eio_wire_consumer)
run(${WORK_DIR}/build/eio_socketio_client_consumer)
run(${WORK_DIR}/build/eio_socketio_server_consumer)
run(${WORK_DIR}/build/eio_socketio_redis_consumer)
