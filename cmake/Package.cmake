# Install rules and the Debian package (`make deb`: CPack's DEB generator on the build that is
# there, so packaging costs no second compile). The package: /usr/bin/sunbridge, the systemd
# unit, an example /etc/sunbridge/sunbridge.yaml (a conffile; root:sunbridge 0640 once the
# postinst made the user), the docs, the man page, the Grafana dashboard and the alerting rules.
include(GNUInstallDirs)

install(TARGETS sunbridge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/packaging/sunbridge.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/sunbridge.yaml DESTINATION /etc/sunbridge)
install(FILES ${PROJECT_SOURCE_DIR}/docs/grafana/sunbridge-dashboard.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/sunbridge/grafana)
install(FILES ${PROJECT_SOURCE_DIR}/docs/prometheus/sunbridge-alerts.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/sunbridge/prometheus)
file(GLOB SB_DOCS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${SB_DOCS} ${PROJECT_SOURCE_DIR}/packaging/debian/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/vendors DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The changelog and the man page, compressed as Debian wants them (no timestamp in the gzip).
set(SB_GZ ${PROJECT_BINARY_DIR}/packaging)
add_custom_command(
  OUTPUT ${SB_GZ}/changelog.gz ${SB_GZ}/sunbridge.1.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${SB_GZ}
  COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/packaging/debian/changelog > ${SB_GZ}/changelog.gz
  COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/packaging/sunbridge.1 > ${SB_GZ}/sunbridge.1.gz
  DEPENDS ${PROJECT_SOURCE_DIR}/packaging/debian/changelog ${PROJECT_SOURCE_DIR}/packaging/sunbridge.1)
add_custom_target(sb_package_files ALL DEPENDS ${SB_GZ}/changelog.gz ${SB_GZ}/sunbridge.1.gz)
install(FILES ${SB_GZ}/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${SB_GZ}/sunbridge.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sunbridge)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGE_CONTACT "sunbridge developers <sunbridge@example.org>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://sunbridge.example.org/")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libpq5 by name: sunbridge loads it only for a postgresql:// database, so shlibdeps cannot see it.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52), tzdata, libpq5")
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
       "gateway for solar inverters and home batteries\n"
       "sunbridge speaks the APIs of KOSTAL PLENTICORE plus / PIKO IQ, FoxESS\n"
       "Cloud, Solar-Log WEB Enerest, sonnenBatterie and Enphase, turns them\n"
       "into one energy model (power flows, lifetime counters, state of\n"
       "charge), keeps the history with its gaps backfilled, controls\n"
       "batteries with read-back verification, and hands everything on\n"
       "through a REST API, a web dashboard, MQTT with Home Assistant\n"
       "discovery and Prometheus. It runs as a systemd service.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
