# Retrieval (task: retrieval, Table 3): the ReQA benchmark of reqa.input, a
# dual-encoder run per fold, seed, model and method (LS-Distill's teacher is
# the same fold's run of method none), zero-shot baselines on each fold's test
# queries, and the table. Runs are recorded as classification runs are
# (workflow/rules/train.smk). The plan's paths and flags: kwls_jax/workflow.py.

localrules: report, publish


TRAIN_BASE = os.path.join(REPO, "experiments", "train_reqa_base.yaml")
REQA = plan.reqa_dir(config)

try:
    plan.check_retrieval_before_any_job(config, TRAIN_BASE)
except plan.PlanError as e:
    raise WorkflowError(str(e)) from None


rule reqa_build:
    output:
        candidates=os.path.join(REQA, "candidates.jsonl.gz"),
        queries=os.path.join(REQA, "queries.jsonl.gz"),
    log:
        os.path.join(WORK, "logs/reqa_build.log"),
    params:
        # Not an input, as the corpus rule's data: a missing file is the
        # job's error, naming the file.
        squad=plan.reqa_input(config, DATA_DIR),
        out=lambda w, output: os.path.dirname(output.candidates),
    shell:
        "kwls reqa build {params.squad} --out {params.out} 2> {log}"


rule reqa_baseline:
    input:
        rules.reqa_build.output,
    output:
        os.path.join(WORK, "baselines/{baseline}/fold{fold}.json"),
    wildcard_constraints:
        baseline="|".join(plan.BASELINES),
    log:
        os.path.join(WORK, "logs/baselines/{baseline}.fold{fold}.log"),
    params:
        benchmark=lambda w, input: os.path.dirname(input[0]),
        flags=lambda w: plan.baseline_flags(config, w.baseline),
    shell:
        "kwls reqa {wildcards.baseline} {params.benchmark} --fold {wildcards.fold} "
        "{params.flags} > {output} 2> {log}"


rule train:
    input:
        unpack(lambda w: plan.retrieval_train_inputs(config, dict(w.items()))),
    output:
        os.path.join(RUNS, f"{plan.REQA_DATASET}/{plan.REQA_SETTING}/fold{{fold}}/seed{{seed}}/{{model}}/{{method}}/final.json"),
    log:
        os.path.join(RUNS, f"{plan.REQA_DATASET}/{plan.REQA_SETTING}/fold{{fold}}/seed{{seed}}/{{model}}/{{method}}/train.log"),
    threads: lambda w: workflow.cores  # a cluster profile sets its own (set-threads)
    resources:
        gpu=lambda w: 1 if w.model == "bert" else 0,
    params:
        flags=lambda w, input: plan.retrieval_train_flags(
            config, dict(w.items()), dict(input.items())),
        run_dir=lambda w, output: os.path.dirname(output[0]),
        record=lambda w: plan.retrieval_record_dir(config, dict(w.items())),
        meta=lambda w: plan.retrieval_run_meta(config, dict(w.items())),
    shell:
        # The run directory is not an output: its checkpoints survive an
        # interrupted job, and `kwls train` resumes from them.
        "mkdir -p {params.run_dir} && echo '{params.meta}' > {params.run_dir}/run.json && "
        "kwls train {TRAIN_BASE} {params.flags} "
        "--run-dir {params.run_dir} > {log} 2>&1 && "
        "python -m kwls_jax.reporting.records {params.run_dir} {params.record} "
        ">> {log} 2>&1"


rule report:
    input:
        runs=ALL_RUNS,
        baselines=plan.baseline_files(config),
    output:
        md=os.path.join(REPORT, "table.md"),
        tex=os.path.join(REPORT, "table.tex"),
        csv=os.path.join(REPORT, "table.csv"),
        comparisons=os.path.join(REPORT, "comparisons.csv"),
        runs=os.path.join(REPORT, "runs.csv"),
    log:
        os.path.join(WORK, "logs/report.log"),
    params:
        run_dirs=lambda w: " ".join(plan.report_run_dirs(config)),
        experiment=EXPERIMENT,
        out_dir=lambda w, output: os.path.dirname(output.md),
        flags=plan.retrieval_report_flags(config, plan.rerun_command(
            REPO, workflow.config_settings.configfiles,
            workflow.config_settings.config,
            "" if config.get("data_dir") else DATA_DIR,
            plan.profiles_given(sys.argv[1:],
                                os.environ.get("SNAKEMAKE_PROFILE", "")))),
    shell:
        "python -m kwls_jax.reporting.retrieval_report {params.run_dirs} "
        "--experiment {params.experiment} --out-dir {params.out_dir} {params.flags} "
        "> {log} 2>&1"


# The report is built in work/ and copied to results/ (committed).
rule publish:
    input:
        rules.report.output,
    output:
        touch(os.path.join(WORK, "published")),
    params:
        results=RESULTS,
    shell:
        "mkdir -p {params.results} && cp {input} {params.results}/"
