//! The dashboard: what a supervisor checks first on the floor. Server-rendered with live counts,
//! then hydrated so the department picker and the refresh button work without a reload.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{get_floor_snapshot, list_departments};
use crate::domain::FloorSnapshot;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let department = Memo::new(move |_| query.read().get("department").unwrap_or_default());
    let snapshot = Resource::new(move || department.get(), get_floor_snapshot);
    let departments = Resource::new(|| (), |_| list_departments());
    let navigate = use_navigate();

    let on_pick = move |ev: leptos::ev::Event| {
        let picked = event_target_value(&ev);
        let target = if picked.is_empty() {
            "/".to_string()
        } else {
            format!("/?department={picked}")
        };
        navigate(&target, Default::default());
    };

    view! {
        <section class="page dashboard">
            <div class="page-head">
                <h1>"Dashboard"</h1>
                <div class="controls">
                    <label class="picker">
                        "Department "
                        <select data-testid="department-picker" on:change=on_pick prop:value=move || department.get()>
                            <option value="">"Whole plant"</option>
                            <Transition fallback=|| ()>
                                {move || departments.get().map(|listed| match listed {
                                    Ok(list) => list
                                        .into_iter()
                                        .map(|d| {
                                            let code = d.code.to_string();
                                            let selected = department.get() == code;
                                            view! { <option value=code selected=selected>{d.name}</option> }
                                        })
                                        .collect_view()
                                        .into_any(),
                                    Err(_) => ().into_any(),
                                })}
                            </Transition>
                        </select>
                    </label>
                    <button data-testid="refresh" class="button" on:click=move |_| snapshot.refetch()>
                        "Refresh"
                    </button>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="loading">"Counting…"</p> }>
                {move || snapshot.get().map(|result| match result {
                    Ok(snap) => view! { <FloorTiles snap/> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn FloorTiles(snap: FloorSnapshot) -> impl IntoView {
    let as_of = snap.as_of.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let scope = match snap.scope.department() {
        Some(code) => format!("department {code}"),
        None => "whole plant".to_string(),
    };
    view! {
        <div class="tiles">
            <Tile id="open-jobs" label="Open jobs" value=snap.open_jobs tone=""/>
            <Tile id="late-jobs" label="Late jobs" value=snap.late_jobs
                tone={if snap.late_jobs > 0 { "warn" } else { "" }}/>
            <Tile id="machines-down" label="Machines down now" value=snap.machines_down_now
                tone={if snap.machines_down_now > 0 { "alert" } else { "" }}/>
            <Tile id="machines-in-service" label="Machines in service" value=snap.machines_in_service tone=""/>
            <Tile id="tasks-running" label="Tasks running now" value=snap.tasks_running_now tone=""/>
            <Tile id="operators-absent" label="Operators absent now" value=snap.operators_absent_now tone=""/>
        </div>
        <p class="as-of" data-testid="as-of">"Counted live for the " {scope} " at " {as_of}</p>
    }
}

#[component]
fn Tile(id: &'static str, label: &'static str, value: i64, tone: &'static str) -> impl IntoView {
    view! {
        <div class=format!("tile {tone}") data-testid=id>
            <span class="tile-value">{value}</span>
            <span class="tile-label">{label}</span>
        </div>
    }
}
