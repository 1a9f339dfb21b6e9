/* mlpio paths: lexical normalisation shared by the run driver and the rules. */
#ifndef MLPIO_PATH_H
#define MLPIO_PATH_H

/* A new string: path with "//", "." and ".." folded and no trailing "/" ("/" stays "/").
 * Lexical only: symbolic links are not resolved, since the path may name storage that is not
 * mounted where this runs. A relative path stays relative. NULL on ENOMEM. */
char *mlpio_path_normalize(const char *path);

/* Is normalised path inner equal to, or below, normalised path outer (whole components:
 * "/a/bc" is not below "/a/b")? */
int mlpio_path_within(const char *outer, const char *inner);

#endif
