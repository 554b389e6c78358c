/**
 * The one grammar of a Concourse version, for every place a version is read: the version check (the
 * scheduler's answer, the pin), the configuration, the image component and the first-boot bootstrap
 * (both given it by the stack), and the playbook's role (which carries the same text; a test holds
 * them equal). Concourse releases are `MAJOR.MINOR.PATCH` (GitHub release `v7.11.2`); nothing else
 * is downloadable, so nothing else is accepted. The text is a POSIX extended regular expression that
 * JavaScript, Python (Ansible's `match`) and bash's `[[ =~ ]]` read alike.
 */
export const CONCOURSE_VERSION_PATTERN_SOURCE = '^[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}$';

export const CONCOURSE_VERSION_PATTERN = new RegExp(CONCOURSE_VERSION_PATTERN_SOURCE);

export const CONCOURSE_VERSION_FORM = 'a Concourse release version MAJOR.MINOR.PATCH such as 7.11.2';
