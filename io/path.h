/* mlpio paths: lexical normalisation, joining and resolving, shared by the run driver, the
 * workloads and the rules. */
#ifndef MLPIO_PATH_H
#define MLPIO_PATH_H

/* A new string: path with "//", "." and ".." folded and no trailing "/" ("/" stays "/").
 * Lexical only: symbolic links are not resolved, since the path may name storage that is not
 * mounted where this runs. A relative path stays relative. NULL on ENOMEM. */
char *mlpio_path_normalize(const char *path);

/* Is normalised path inner equal to, or below, normalised path outer (whole components:
 * "/a/bc" is not below "/a/b")? */
int mlpio_path_within(const char *outer, const char *inner);

/* "<dir>/<name>" in a new string (NULL on ENOMEM). */
char *mlpio_path_join(const char *dir, const char *name);

/* path resolved against the current directory, normalised (no symlink resolution); a new
 * string, NULL when the current directory cannot be read or on ENOMEM. */
char *mlpio_path_absolute(const char *path);

#endif
