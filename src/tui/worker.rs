//! The console's background work: everything that touches a database runs here, in tokio
//! tasks, and comes back to the UI thread as a [`Msg`]. The UI thread never waits on a
//! database; it asks for work with an [`Effect`] and keeps drawing.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use estate_engine::Scope;
use estate_engine::{Action, Direction, Plan, TenantSelection};
use estate_engine::{Error, Project, Removal, VerifyReport};
use estate_engine::{JobControl, JobEvent, JobReport};
use estate_engine::{JobFilter, JobRecord, LoggedLine, Slug};

use super::data::{JOB_ROWS, Snapshot};
use super::history::{HistoryAnswer, HistoryRequest};

/// One plan to ask the registry for: modules for tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanGroup {
    pub modules: Vec<String>,
    pub tenants: TenantSelection,
}

/// What the operator asked to plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRequest {
    pub action: Action,
    pub groups: Vec<PlanGroup>,
    pub cascade: bool,
    /// One module's tenant scope moved to this version (`--to`), not the whole module.
    pub to: Option<i64>,
}

/// A cell whose detail offers to roll it back to a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellRef {
    pub tenant: String,
    pub module: String,
}

/// A tenant the operator asked to remove, as the removal window shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRemoval {
    pub slug: String,
    pub name: String,
    pub database: String,
    /// The modules it has (installed, outdated or failed): the removal waits for none.
    pub modules: Vec<String>,
}

/// Work the UI asks for.
#[derive(Debug)]
pub enum Effect {
    Reload,
    Plan(PlanRequest),
    /// Runs plans one after the other, each as its own job: `(live job index, plan, control)`.
    Run(Vec<(usize, Plan, JobControl)>),
    /// Plans `request` again, the operator having confirmed `shown`.
    Recheck {
        request: PlanRequest,
        shown: Vec<Plan>,
    },
    /// `estate verify` over every tenant, reading only.
    Verify,
    /// The registry's jobs, whichever process runs them (a job whose process is gone is
    /// recorded interrupted first).
    PollJobs,
    /// Job `job`'s log lines after line `after`.
    JobLog {
        job: String,
        after: i64,
    },
    /// Asks job `job`, whichever process runs it, to stop at its next migration boundary.
    CancelJob(String),
    /// What a retry of job `job` plans: its action over its modules and tenants again.
    Retry(String),
    /// A page of history, for the view or the detail that asked.
    History(HistoryRequest),
    /// `tenants remove SLUG` (`--drop-database`), the slug typed.
    RemoveTenant {
        slug: String,
        drop_database: bool,
    },
}

/// Work done, back to the UI.
pub enum Msg {
    Loaded(Result<Box<Snapshot>, String>),
    Planned {
        request: PlanRequest,
        result: Result<Vec<Plan>, String>,
        /// For a refused rollback: the same plans with `--cascade`, when those are allowed.
        cascade: Option<Vec<Plan>>,
    },
    /// A confirmed plan made again: `result` is what `request` plans now.
    Rechecked {
        request: PlanRequest,
        shown: Vec<Plan>,
        result: Result<Vec<Plan>, String>,
    },
    Event(usize, JobEvent),
    Finished(usize, Result<JobReport, String>),
    /// The project read anew from disk; the event loop works on it from now on.
    Reopened(Arc<Project>),
    Verified(Result<VerifyReport, String>),
    Jobs(Result<Vec<JobRecord>, String>),
    JobLog {
        job: String,
        result: Result<Vec<LoggedLine>, String>,
    },
    CancelAsked {
        job: String,
        result: Result<(), String>,
    },
    Retry {
        job: String,
        result: Result<PlanRequest, String>,
    },
    History {
        request: HistoryRequest,
        answer: HistoryAnswer,
    },
    Removed {
        slug: String,
        result: Result<Removal, String>,
    },
}

/// How many log lines one read brings; a longer log comes in several.
pub const LOG_LINES: i64 = 5000;

/// Starts `effect` in the background; its result arrives on `tx`.
pub fn spawn(
    handle: &tokio::runtime::Handle,
    project: Arc<Project>,
    effect: Effect,
    tx: Sender<Msg>,
) {
    match effect {
        Effect::Reload => {
            handle.spawn(async move {
                // Re-read the contexts too: a migration file added since the console opened
                // must show as pending. Jobs under way keep the project they started with.
                match project.reopen().await {
                    Ok(fresh) => {
                        let fresh = Arc::new(fresh);
                        let msg = load(&fresh).await;
                        let _ = tx.send(Msg::Reopened(fresh));
                        let _ = tx.send(msg);
                    }
                    // Refused (the landlord deleted or moved, the contexts folder gone): said
                    // as it is, never papered over with what the old handles still read.
                    Err(e) if e.is_refusal() => {
                        tracing::warn!(error = %e, "re-reading the project was refused");
                        let _ = tx.send(Msg::Loaded(Err(e.to_string())));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "re-reading the project failed; reloading the registry only");
                        let _ = tx.send(load(&project).await);
                    }
                }
            });
        }
        // The planner's and the runner's futures fan out over tenants with borrowed streams
        // that tokio::spawn cannot prove Send; a thread of their own drives them on the same
        // runtime instead.
        Effect::Plan(request) => {
            let handle = handle.clone();
            std::thread::spawn(move || {
                let _ = tx.send(handle.block_on(plan(&project, request)));
            });
        }
        Effect::Recheck { request, shown } => {
            let handle = handle.clone();
            std::thread::spawn(move || {
                let _ = tx.send(handle.block_on(recheck(&project, request, shown)));
            });
        }
        Effect::Run(jobs) => {
            let handle = handle.clone();
            std::thread::spawn(move || handle.block_on(run(&project, jobs, &tx)));
        }
        Effect::Verify => {
            let handle = handle.clone();
            std::thread::spawn(move || {
                // Against the files as they are now, not as the console found them.
                let fresh = match handle.block_on(project.reopen()) {
                    Ok(fresh) => Arc::new(fresh),
                    Err(e) => {
                        let _ = tx.send(Msg::Verified(Err(e.to_string())));
                        return;
                    }
                };
                let msg = handle.block_on(verify(&fresh));
                let _ = tx.send(Msg::Reopened(fresh));
                let _ = tx.send(msg);
            });
        }
        effect => {
            handle.spawn(async move {
                if let Some(msg) = registry(&project, effect).await {
                    let _ = tx.send(msg);
                }
            });
        }
    }
}

/// The effects that are one short read or write of the registry.
pub async fn registry(project: &Project, effect: Effect) -> Option<Msg> {
    Some(match effect {
        Effect::PollJobs => Msg::Jobs(poll_jobs(project).await.map_err(|e| e.to_string())),
        Effect::JobLog { job, after } => Msg::JobLog {
            result: project
                .job_log(&job, after, None, LOG_LINES)
                .await
                .map_err(|e| e.to_string()),
            job,
        },
        Effect::CancelJob(job) => Msg::CancelAsked {
            result: project.cancel_job(&job).await.map_err(|e| e.to_string()),
            job,
        },
        Effect::Retry(job) => Msg::Retry {
            result: retry(project, &job).await.map_err(|e| e.to_string()),
            job,
        },
        Effect::History(request) => history(project, request).await,
        Effect::RemoveTenant {
            slug,
            drop_database,
        } => Msg::Removed {
            result: project
                .remove_tenant(&slug, drop_database)
                .await
                .map_err(|e| e.to_string()),
            slug,
        },
        _ => return None,
    })
}

async fn poll_jobs(project: &Project) -> estate_engine::Result<Vec<JobRecord>> {
    // A job killed elsewhere would say `running` for ever: recorded interrupted (its tenants'
    // rows repaired) as the next estate to open the project would.
    if let Err(e) = project.reap_dead_jobs().await {
        tracing::warn!(error = %e, "looking for jobs whose process is gone failed");
    }
    project
        .jobs(&JobFilter {
            limit: JOB_ROWS,
            ..JobFilter::default()
        })
        .await
}

/// A retry plans the job's action again over its modules and the tenants it was planned
/// over: what already succeeded plans as nothing, so what is left is what failed, was skipped
/// or never started.
async fn retry(project: &Project, id: &str) -> estate_engine::Result<PlanRequest> {
    let job = project.job(id).await?;
    let action = match job.action.as_str() {
        "install" => Action::Install,
        "rollback" => Action::Rollback,
        _ => Action::Upgrade,
    };
    let tenants = project
        .job_tenants(id)
        .await?
        .iter()
        .map(|t| Slug::parse(t))
        .collect::<estate_engine::Result<Vec<_>>>()?;
    if tenants.is_empty() && job.tenants > 0 {
        // It ran before estate kept a job's tenants: planning over none would say "nothing
        // to do" about a job that left work behind.
        return Err(Error::refused(
            format!("job {id} ran before estate kept a job's tenants"),
            format!(
                "`estate history --job {id}` names them; plan again from the Matrix, or `estate migrate --all`"
            ),
        ));
    }
    Ok(PlanRequest {
        action,
        groups: vec![PlanGroup {
            modules: job
                .modules
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect(),
            tenants: TenantSelection::Only(tenants),
        }],
        cascade: false,
        to: None,
    })
}

/// Asks the registry for a page of history.
pub async fn history(project: &Project, request: HistoryRequest) -> Msg {
    let answer = project
        .history_page(&request.filter)
        .await
        .map_err(|e| e.to_string());
    Msg::History { request, answer }
}

pub async fn verify(project: &Project) -> Msg {
    Msg::Verified(
        project
            .verify(&TenantSelection::All, false)
            .await
            .map_err(|e| e.to_string()),
    )
}

pub async fn load(project: &Project) -> Msg {
    Msg::Loaded(
        Snapshot::load(project)
            .await
            .map(Box::new)
            .map_err(|e| e.to_string()),
    )
}

async fn plans(
    project: &Project,
    request: &PlanRequest,
    cascade: bool,
) -> estate_engine::Result<Vec<Plan>> {
    let mut plans = Vec::new();
    for g in &request.groups {
        if let (Some(to), [module]) = (request.to, g.modules.as_slice()) {
            let direction = match request.action {
                Action::Rollback => Direction::Down,
                _ => Direction::Up,
            };
            plans.push(
                project
                    .plan_to_version(module, &g.tenants, Scope::Tenant, to, direction)
                    .await?,
            );
            continue;
        }
        plans.push(match request.action {
            Action::Install => project.plan_install(&g.modules, &g.tenants).await?,
            Action::Adopt => project.plan_adopt(&g.modules, &g.tenants, None).await?,
            Action::Rollback => {
                project
                    .plan_rollback(&g.modules, &g.tenants, cascade)
                    .await?
            }
            Action::Upgrade => {
                project
                    .plan_migrate(&g.modules, &g.tenants, &[Scope::Landlord, Scope::Tenant])
                    .await?
            }
        });
    }
    Ok(plans)
}

/// Plans a request; a refused rollback also gets its `--cascade` alternative.
pub async fn plan(project: &Project, request: PlanRequest) -> Msg {
    let result = plans(project, &request, request.cascade).await;
    let cascade = match &result {
        Err(e) if e.is_refusal() && request.action == Action::Rollback && !request.cascade => {
            plans(project, &request, true).await.ok()
        }
        _ => None,
    };
    Msg::Planned {
        request,
        result: result.map_err(|e| e.to_string()),
        cascade,
    }
}

/// Plans a confirmed request again, for the app to compare with what it showed.
pub async fn recheck(project: &Project, request: PlanRequest, shown: Vec<Plan>) -> Msg {
    let result = plans(project, &request, request.cascade).await;
    Msg::Rechecked {
        request,
        shown,
        result: result.map_err(|e| e.to_string()),
    }
}

/// Runs the plans in order, forwarding every event.
pub async fn run(project: &Project, jobs: Vec<(usize, Plan, JobControl)>, tx: &Sender<Msg>) {
    for (index, plan, control) in jobs {
        let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
        let forward = async {
            while let Some(event) = erx.recv().await {
                let _ = tx.send(Msg::Event(index, event));
            }
        };
        let (result, ()) = tokio::join!(project.run(&plan, Some(etx), control), forward);
        let _ = tx.send(Msg::Finished(index, result.map_err(|e| e.to_string())));
    }
}
