package io.corezfs.install;

import io.corezfs.testing.TarBuilder;
import java.nio.file.Path;

/** The typical tree with one conffile's content changed, as a later build would ship it. */
final class TarBuilderVariants {
    private TarBuilderVariants() {}

    static Path withZedRc(Path file, String zedRc) {
        return TarBuilder.flatcar()
                .zfs("2.1.12")
                .dir("etc/modules-load.d")
                .file("etc/modules-load.d/zfs.conf", "zfs\n")
                .dir("etc/systemd")
                .dir("etc/systemd/system")
                .file(
                        "etc/systemd/system/zfs-overlay.service",
                        "[Unit]\nDescription=overlay\n[Service]\nType=oneshot\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n")
                .dir("etc/systemd/system-preset")
                .file("etc/systemd/system-preset/40-corezfs.preset", "enable zfs-overlay.service\n")
                .dir("etc/zfs")
                .file("etc/zfs/zed.rc", zedRc)
                .dir("opt/corezfs")
                .dir("opt/corezfs/usr")
                .dir("opt/corezfs/usr/sbin")
                .file("opt/corezfs/usr/sbin/zfs", "#!/bin/sh\necho zfs 2.1.12\n", 0755)
                .writeTo(file);
    }
}
