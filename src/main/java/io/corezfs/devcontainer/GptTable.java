package io.corezfs.devcontainer;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * A verified GPT partition table: only the used entries, in entry-array order.
 *
 * @param diskGuid   the disk's GUID from the header
 * @param partitions used entries; unused slots (all-zero type GUID) are left out but keep their numbers free
 */
public record GptTable(UUID diskGuid, List<GptPartition> partitions) {

    /** The label Container Linux gives the root filesystem of its images and developer container. */
    public static final String ROOT_LABEL = "ROOT";
    /** The slot Container Linux images put ROOT in. */
    public static final int ROOT_NUMBER = 9;

    public GptTable {
        partitions = List.copyOf(partitions);
    }

    public Optional<GptPartition> partition(int number) {
        return partitions.stream().filter(p -> p.number() == number).findFirst();
    }

    /**
     * The developer container's root filesystem. Partition 9 labelled ROOT is the Container Linux layout; a lone
     * partition labelled ROOT elsewhere is accepted too, since a stand-in image may number it differently. The
     * offset always comes from the table: images have moved ROOT between releases.
     *
     * @throws CorezfsException exit 6 if no partition, or more than one, could be the root
     */
    public GptPartition findRoot() {
        Optional<GptPartition> nine =
                partition(ROOT_NUMBER).filter(p -> p.name().equals(ROOT_LABEL));
        if (nine.isPresent()) {
            return nine.get();
        }
        List<GptPartition> named =
                partitions.stream().filter(p -> p.name().equals(ROOT_LABEL)).toList();
        if (named.size() == 1) {
            return named.get(0);
        }
        if (named.isEmpty()) {
            throw new CorezfsException(
                    ExitCode.BUILD_FAILED,
                    "no partition labelled " + ROOT_LABEL + " in the developer container (found: " + labels() + ")");
        }
        throw new CorezfsException(
                ExitCode.BUILD_FAILED,
                "ambiguous developer container: partitions "
                        + named.stream().map(p -> String.valueOf(p.number())).toList() + " are all labelled "
                        + ROOT_LABEL);
    }

    private String labels() {
        if (partitions.isEmpty()) {
            return "no partitions";
        }
        return String.join(
                ", ",
                partitions.stream().map(p -> p.number() + "='" + p.name() + "'").toList());
    }
}
