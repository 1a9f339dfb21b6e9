/* mlpio manual, see manpage.h. Help texts are captured as --help prints them and set in no-fill
 * blocks, each line escaped for roff; the structure (sections, one subsection per command)
 * comes from the workload and tool tables. */
#include "app/manpage.h"

#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "app/tools.h"
#include "app/workload.h"

const char mlpio_launch_help[] =
    "Running mlpio on a cluster\n"
    "\n"
    "mlpio is one MPI program: every rank runs the same command line, rank 0 writes the\n"
    "results. Launch it as any MPI job.\n"
    "\n"
    "  mpirun with a host file, N ranks per node:\n"
    "    mpirun --hostfile hosts --map-by ppr:8:node --bind-to none \\\n"
    "        mlpio training run --model unet3d -dd /lustre/u3d -rd ~/mlpio_results --closed\n"
    "  The host file lists one node per line (\"node1 slots=8\"); --map-by ppr:N:node places\n"
    "  N ranks on each node, which the per-host rules judge (checkpointing wants at least 5).\n"
    "\n"
    "  Slurm: srun inside a batch job (scripts/slurm/*.sbatch, installed in\n"
    "  share/mlpio/scripts):\n"
    "    #SBATCH --nodes=2 --ntasks-per-node=8\n"
    "    srun --mpi=pmix mlpio checkpointing run --model llama3-8b -cf /lustre/ckpt\n"
    "  or mpirun inside the allocation, which takes the nodes from Slurm itself. 'srun\n"
    "  --mpi=list' says which PMI this Slurm offers; Debian's Open MPI speaks PMIx.\n"
    "  PBS: mpirun inside the job (scripts/pbs/*.pbs); Open MPI reads $PBS_NODEFILE.\n"
    "\n"
    "  Binding: training's read threads share a rank's cores, so bind ranks to nothing\n"
    "  (mpirun --bind-to none, srun --cpu-bind=none) or to whole sockets.\n"
    "\n"
    "  Folders: the data folder (--data-dir, --checkpoint-folder) and the results directory\n"
    "  must be the same folder on every host (a shared file system mounted at the same path):\n"
    "  mlpio checks both at the start and names a host that does not see them. Keep them on\n"
    "  different file systems (Rules.md 3.4.2). The KV cache's --cache-dir may be local to\n"
    "  each host: every rank keeps its own folder in it.\n"
    "\n"
    "  Results: <results-dir>/<benchmark>/<model>/<command>/<YYYYMMDD_HHMMSS>/, or a\n"
    "  submission tree made with 'mlpio init'. Every host must run the same mlpio and the\n"
    "  same share/ definitions.\n"
    "\n"
    "  Watching a job from a login node:\n"
    "    mlpio watch --follow --waitcreate <run-dir>\n"
    "  follows events.jsonl until the run's finish event; without a terminal rank 0 writes a\n"
    "  progress event every 5 s (MLPIO_PROGRESS_INTERVAL) into the log.\n";

/* Text as roff no-fill lines: backslashes escaped, control characters at a line start
 * neutralised. */
static void put_verbatim(FILE *out, const char *text)
{
    fputs(".nf\n", out);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (*p == '.' || *p == '\'')
            fputs("\\&", out);
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '\\')
                fputs("\\e", out);
            else if (p[i] == '-')
                fputs("\\-", out);
            else
                fputc(p[i], out);
        }
        fputc('\n', out);
        p += n;
        p += *p == '\n';
    }
    fputs(".fi\n", out);
}

/* What a help printer writes, as verbatim text. */
static int captured(FILE *out, void (*print)(FILE *, const void *, const void *), const void *a,
                    const void *b)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return -1;
    print(mem, a, b);
    if (fclose(mem) != 0 || !text) {
        free(text);
        return -1;
    }
    put_verbatim(out, text);
    free(text);
    return 0;
}

static void print_top(FILE *out, const void *a, const void *b)
{
    (void)a;
    (void)b;
    mlpio_cli_help_top(out);
}

static void print_workload(FILE *out, const void *w, const void *b)
{
    (void)b;
    mlpio_cli_help_workload(out, w);
}

static void print_command(FILE *out, const void *w, const void *c)
{
    mlpio_cli_help_command(out, w, c);
}

int mlpio_manpage_write(FILE *out)
{
    int rc = 0;
    fprintf(out,
            ".TH MLPIO 1 \"\" \"mlpio %s\" \"User Commands\"\n"
            ".SH NAME\n"
            "mlpio \\- storage benchmarks for AI workloads, judged by the MLPerf Storage rules\n"
            ".SH SYNOPSIS\n"
            ".B mpirun\n\\-np\n.I N\n.B mlpio\n.I benchmark command\n[\\fIoptions\\fR]\n.br\n"
            ".B mlpio\n.I tool\n[\\fIarguments\\fR]\n"
            ".SH DESCRIPTION\n"
            "mlpio measures how a file system or storage array serves training jobs reading "
            "datasets, LLM training writing and reading checkpoints, and LLM inference "
            "offloading its KV cache, issuing every byte of I/O itself, and judges each run "
            "against the MLPerf Storage rules (CLOSED, OPEN or INVALID).\n",
            MLPIO_VERSION);
    rc |= captured(out, print_top, NULL, NULL);
    fputs(".SH BENCHMARKS\n", out);
    for (const struct mlpio_workload *const *ws = mlpio_workloads(); *ws; ws++) {
        fprintf(out, ".SS \"mlpio %s\"\n", (*ws)->name);
        rc |= captured(out, print_workload, *ws, NULL);
        for (const struct mlpio_command *c = (*ws)->commands; c->name; c++) {
            fprintf(out, ".SS \"mlpio %s %s\"\n", (*ws)->name, c->name);
            rc |= captured(out, print_command, *ws, c);
        }
    }
    fputs(".SH TOOLS\n", out);
    for (const struct mlpio_tool *t = mlpio_tools(); t->name; t++) {
        fprintf(out, ".SS \"mlpio %s\"\n", t->name);
        put_verbatim(out, t->usage);
    }
    fputs(".SH \"RUNNING ON A CLUSTER\"\n", out);
    put_verbatim(out, mlpio_launch_help);
    fputs(".SH ENVIRONMENT\n"
          ".TP\n.B MLPIO_SHARE_DIR\n"
          "The folder of the workload definitions and rules editions (default: "
          "share/mlpio beside the installed binary).\n"
          ".TP\n.B MLPIO_PROGRESS_INTERVAL\n"
          "Seconds between progress events when rank 0 has no terminal (default 5).\n"
          ".SH FILES\n"
          ".TP\n.I share/mlpio/\n"
          "Workload definitions (one JSON file per model) and rules editions "
          "(rules/<edition>.json).\n"
          ".TP\n.I share/mlpio/scripts/\n"
          "Batch templates for Slurm (slurm/*.sbatch) and PBS (pbs/*.pbs).\n"
          ".SH \"SEE ALSO\"\n"
          ".BR mpirun (1),\n.BR srun (1)\n",
          out);
    return rc ? -1 : 0;
}
