package io.corezfs;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Which package may use which: dependencies point one way, along the data's path, so a package can be read, tested
 * and changed knowing only what lies below it.
 */
@AnalyzeClasses(packages = "io.corezfs", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
    @ArchTest
    static final ArchRule nothingDependsOnTheCli = noClasses()
            .that()
            .resideOutsideOfPackage("io.corezfs.cli..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.corezfs.cli..")
            .because("commands parse, call one service and render; no service may reach back into them");

    @ArchTest
    static final ArchRule buildingNeverTouchesAnInstall = noClasses()
            .that()
            .resideInAnyPackage("io.corezfs.compile..", "io.corezfs.devcontainer..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.corezfs.install..", "io.corezfs.activation..")
            .because("an archive is built without knowing how it will be installed or activated");

    @ArchTest
    static final ArchRule theFileTransactionKnowsNothingOfActivationOrBuilding = noClasses()
            .that()
            .resideInAPackage("io.corezfs.install..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.corezfs.activation..",
                    "io.corezfs.provide..",
                    "io.corezfs.compile..",
                    "io.corezfs.devcontainer..")
            .because("an offline install into a root uses the same transaction as a live one");

    @ArchTest
    static final ArchRule activationNeverBuilds = noClasses()
            .that()
            .resideInAPackage("io.corezfs.activation..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.corezfs.provide..", "io.corezfs.compile..", "io.corezfs.devcontainer..", "io.corezfs.docker..")
            .because("activation presents an archive that is already installed; finding or building one comes before");

    @ArchTest
    static final ArchRule foundationsDependOnNothingAboveThem = noClasses()
            .that()
            .resideInAnyPackage(
                    "io.corezfs.host..",
                    "io.corezfs.archive..",
                    "io.corezfs.system..",
                    "io.corezfs.trust..",
                    "io.corezfs.net..",
                    "io.corezfs.zfs..",
                    "io.corezfs.docker..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.corezfs.install..",
                    "io.corezfs.activation..",
                    "io.corezfs.compile..",
                    "io.corezfs.devcontainer..",
                    "io.corezfs.provide..",
                    "io.corezfs.update..",
                    "io.corezfs.provision..",
                    "io.corezfs.flexvolume..",
                    "io.corezfs.provisioner..",
                    "io.corezfs.cli..")
            .because("facts, archives, processes, trust, downloads, releases and the engine are the ground the"
                    + " services stand on");

    @ArchTest
    static final ArchRule onlyTheCliUsesTheUpdateLayer = noClasses()
            .that()
            .resideOutsideOfPackages("io.corezfs.update..", "io.corezfs.cli..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.corezfs.update..")
            .because("reconciling with an OS update stands on install and activation; they never know of it");

    @ArchTest
    static final ArchRule onlyTheCliAndTheProvisionerUseTheFleet = noClasses()
            .that()
            .resideOutsideOfPackages("io.corezfs.fleet..", "io.corezfs.provisioner..", "io.corezfs.cli..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.corezfs.fleet..")
            .because("a rollout over SSH drives the same commands a node runs itself; nothing on a node knows of it"
                    + " (the provisioner, beside it, runs zfs on a node through the same SSH seam)");

    @ArchTest
    static final ArchRule theFleetDrivesNodesOnlyThroughTheirCommands = noClasses()
            .that()
            .resideInAPackage("io.corezfs.fleet..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.corezfs.install..",
                    "io.corezfs.activation..",
                    "io.corezfs.update..",
                    "io.corezfs.compile..",
                    "io.corezfs.devcontainer..",
                    "io.corezfs.provide..")
            .because("a node changes only by its own corezfs, run over SSH, never by the admin machine's code");

    @ArchTest
    static final ArchRule onlyTheCliUsesProvisioning = noClasses()
            .that()
            .resideOutsideOfPackages("io.corezfs.provision..", "io.corezfs.cli..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.corezfs.provision..")
            .because("a provisioning snippet describes a node from outside; nothing that runs on the node needs it");

    @ArchTest
    static final ArchRule provisioningNeverInstallsOrBuilds = noClasses()
            .that()
            .resideInAPackage("io.corezfs.provision..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.corezfs.install..",
                    "io.corezfs.provide..",
                    "io.corezfs.compile..",
                    "io.corezfs.devcontainer..",
                    "io.corezfs.docker..",
                    "io.corezfs.update..")
            .because("it only writes what a node needs; the node's own corezfs does the installing");

    @ArchTest
    static final ArchRule onlyTheCliUsesTheFlexVolumeDriver = noClasses()
            .that()
            .resideOutsideOfPackages("io.corezfs.flexvolume..", "io.corezfs.provisioner..", "io.corezfs.cli..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.corezfs.flexvolume..")
            .because("the kubelet's driver sits on top of a node's ZFS; nothing that installs or builds it knows of"
                    + " Kubernetes");

    @ArchTest
    static final ArchRule theFlexVolumeDriverNeverInstallsOrBuilds = noClasses()
            .that()
            .resideInAPackage("io.corezfs.flexvolume..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.corezfs.install..",
                    "io.corezfs.activation..",
                    "io.corezfs.provide..",
                    "io.corezfs.compile..",
                    "io.corezfs.devcontainer..",
                    "io.corezfs.docker..",
                    "io.corezfs.update..",
                    "io.corezfs.fleet..",
                    "io.corezfs.provision..")
            .because("it uses the ZFS a node has: zfs and mount through the process runner, files through the root");

    @ArchTest
    static final ArchRule onlyTheCliUsesTheProvisioner = noClasses()
            .that()
            .resideOutsideOfPackages("io.corezfs.provisioner..", "io.corezfs.cli..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.corezfs.provisioner..")
            .because("the dynamic provisioner is a cluster's controller on top of a node's ZFS; nothing below knows of"
                    + " Kubernetes");

    @ArchTest
    static final ArchRule theProvisionerNeverInstallsOrBuilds = noClasses()
            .that()
            .resideInAPackage("io.corezfs.provisioner..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.corezfs.install..",
                    "io.corezfs.activation..",
                    "io.corezfs.provide..",
                    "io.corezfs.compile..",
                    "io.corezfs.devcontainer..",
                    "io.corezfs.docker..",
                    "io.corezfs.update..",
                    "io.corezfs.provision..")
            .because("it uses the ZFS a node has, locally or over SSH; ZFS's names are checked by the driver's rules"
                    + " (flexvolume.ZfsValues)");

    @ArchTest
    static final ArchRule onlyTheClusterSeamKnowsTheKubernetesClient = noClasses()
            .that()
            .haveNameNotMatching("io\\.corezfs\\.provisioner\\.Fabric8Cluster(\\$.*)?")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.fabric8..")
            .because("the client's jars ship only in the provisioner's tree; the node bundle must load without them");

    @ArchTest
    static final ArchRule noCyclesBetweenPackages =
            slices().matching("io.corezfs.(**)").should().beFreeOfCycles();
}
