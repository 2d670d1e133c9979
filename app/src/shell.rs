//! The HTML document, the app shell (header and navigation) and the routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    StaticSegment,
};

use crate::api::current_user;
use crate::pages::{coming::ComingPage, dashboard::DashboardPage};

/// The whole HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/takt.css"/>
        <Title text="Takt"/>
        <Meta name="theme-color" content="#1d3557"/>
        <Link rel="icon" href="/favicon.svg"/>
        <Router>
            <Header/>
            <main class="content">
                <Routes fallback=|| view! { <p class="page">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=DashboardPage/>
                    <Route path=StaticSegment("gantt") view=|| view! {
                        <ComingPage title="Gantt" what="the machine and operator Gantt of the live plan and its scenarios."/>
                    }/>
                    <Route path=StaticSegment("machines") view=|| view! {
                        <ComingPage title="Machines" what="utilization per machine, bottlenecks and capacity insights."/>
                    }/>
                    <Route path=StaticSegment("operators") view=|| view! {
                        <ComingPage title="Operators" what="operator load, availability forecast and skill coverage."/>
                    }/>
                    <Route path=StaticSegment("flow") view=|| view! {
                        <ComingPage title="Flow" what="throughput, cycle times and flow efficiency of jobs."/>
                    }/>
                    <Route path=StaticSegment("optimize") view=|| view! {
                        <ComingPage title="Optimize" what="building and repairing schedules with the optimizer."/>
                    }/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">"Takt"</A>
            <nav class="nav">
                <A href="/">"Dashboard"</A>
                <A href="/gantt">"Gantt"</A>
                <A href="/machines">"Machines"</A>
                <A href="/operators">"Operators"</A>
                <A href="/flow">"Flow"</A>
                <A href="/optimize">"Optimize"</A>
            </nav>
            <span class="user" data-testid="acting-user">
                <Transition fallback=|| ()>
                    {move || user.get().and_then(Result::ok).map(|u| u.display_name)}
                </Transition>
            </span>
        </header>
    }
}
