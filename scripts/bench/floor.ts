// The floor of `npm run bench`: a bare cdk8s-plus-27 chart with one Deployment, which loads Node,
// cdk8s and cdk8s-plus and synthesizes, as every cdk8s app must.
import { App, Chart } from 'cdk8s';
import { Deployment } from 'cdk8s-plus-27';

const app = new App();
const chart = new Chart(app, 'floor');
new Deployment(chart, 'Deployment', { containers: [{ image: 'docker.io/library/nginx:1.27', portNumber: 8080 }] });
app.synth();
