import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { connect } from './api/client.ts';
import { Studio } from './state/studio.svelte.ts';

const studio = new Studio(connect());
mount(App, { target: document.getElementById('app')!, props: { studio } });
