# Aggregation: paper-style tables, figures, and the W&B record of the experiment.
# Local on a cluster too: the rerun command (plan.profiles_given) comes from this
# process's command line.

localrules: report, publish


rule report:
    input:
        runs=ALL_RUNS,
    output:
        md=os.path.join(REPORT, "table.md"),
        tex=os.path.join(REPORT, "table.tex"),
        csv=os.path.join(REPORT, "table.csv"),
        runs=os.path.join(REPORT, "runs.csv"),
        comparisons=os.path.join(REPORT, "comparisons.csv"),
        metrics=os.path.join(REPORT, "metrics.md"),
        calibration=os.path.join(REPORT, "calibration.png"),
        figures=[os.path.join(REPORT, f"{f}.png") for f in plan.figures(config)],
    log:
        os.path.join(WORK, "logs/report.log"),
    params:
        run_dirs=lambda w: " ".join(plan.report_run_dirs(config)),
        experiment=EXPERIMENT,
        out_dir=lambda w, output: os.path.dirname(output.md),
        # A function: Snakemake would read braces in a note as wildcards.
        flags=lambda w: plan.report_flags(config, [
            os.path.join(d, "final.json") for d in plan.report_run_dirs(config)], plan.rerun_command(
            REPO, workflow.config_settings.configfiles,
            workflow.config_settings.config,
            "" if config.get("data_dir") else DATA_DIR,
            plan.profiles_given(sys.argv[1:],
                                os.environ.get("SNAKEMAKE_PROFILE", "")))),
    shell:
        "python -m kwls_jax.reporting.report {params.run_dirs} "
        "--experiment {params.experiment} --out-dir {params.out_dir} {params.flags} "
        "> {log} 2>&1"


# The report is built in work/ and copied to results/ (committed): a fresh
# checkout, which has results/ but no work/, still runs the whole job.
rule publish:
    input:
        rules.report.output,
    output:
        touch(os.path.join(WORK, "published")),
    params:
        results=RESULTS,
    shell:
        "mkdir -p {params.results} && cp {input} {params.results}/"
